"""`polyb0t doctor` live checks against the fake, and an unknown never reading as a pass."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from engine.config import LiveSettings
from engine.execution.clob_client import ClobSession
from engine.execution.clob_settings import ClobSettings
from engine.execution.clob_wallet import WalletKeys
from engine.execution.live_checks import (
    CheckResult,
    check_balance,
    check_clock,
    check_credentials,
    check_geoblock,
    check_positions,
    check_signature_type,
    run_live_checks,
)
from fake_polymarket import ThreadedFakePolymarket
from tests.fake_exchange_fixture import (
    WALLET_KEY,
    fake_polymarket_thread_fixture,  # noqa: F401  (registers the fixture)
)

PROXY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def cfg(**extra: object) -> LiveSettings:
    values: dict[str, object] = {"dry_run": False, "private_key": SecretStr(WALLET_KEY)}
    values.update(extra)
    return LiveSettings(**values)


@pytest.fixture
def session(fake_polymarket_thread: ThreadedFakePolymarket) -> Iterator[ClobSession]:
    urls = fake_polymarket_thread.urls
    s = ClobSession(
        WalletKeys.from_settings(cfg()), ClobSettings(host=urls.clob, data_url=urls.data)
    )
    yield s
    s.close()


def test_signature_type_against_funder() -> None:
    assert check_signature_type(cfg()).ok is True
    assert check_signature_type(cfg(signature_type=2, funder=PROXY)).ok is True
    bad = check_signature_type(cfg(signature_type=1))
    assert bad.ok is False and "live.funder" in bad.detail and bad.label == "FAIL"
    assert check_signature_type(cfg(funder=PROXY)).ok is False
    assert check_signature_type(LiveSettings()).ok is False


def test_credentials_balance_and_allowances_on_the_fake(
    fake_polymarket_thread: ThreadedFakePolymarket, session: ClobSession
) -> None:
    creds = check_credentials(session)
    assert creds.ok is True, creds
    balance = check_balance(session)
    assert balance.ok is True and "balance 10000.00" in balance.detail
    t = fake_polymarket_thread
    t.call(t.fake.exchange.fund, session.wallet.signer, 0.0)
    empty = check_balance(session)
    assert empty.ok is False and "deposit" in empty.hint


def test_wrong_credentials_fail(fake_polymarket_thread: ThreadedFakePolymarket) -> None:
    wrong = cfg(
        api_key=SecretStr("00000000-0000-4000-8000-000000000000"),
        api_secret=SecretStr("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="),
        api_passphrase=SecretStr("nope"),
    )
    s = ClobSession(
        WalletKeys.from_settings(wrong), ClobSettings(host=fake_polymarket_thread.urls.clob)
    )
    result = check_credentials(s)
    assert result.ok is False and "401" in result.detail
    s.close()


def _answering(status: int, body: object) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text=json.dumps(body))

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_geoblock_absent_is_unknown_never_a_pass(
    fake_polymarket_thread: ThreadedFakePolymarket,
) -> None:
    absent = check_geoblock(fake_polymarket_thread.urls.clob + "/api/geoblock")
    assert absent.ok is None and absent.label == "UNKNOWN" and "404" in absent.detail
    down = check_geoblock("http://127.0.0.1:9/api/geoblock")
    assert down.ok is None
    blocked = check_geoblock("https://x/api/geoblock", _answering(200, {"blocked": True}))
    assert blocked.ok is False and blocked.label == "FAIL"
    fine = check_geoblock(
        "https://x/api/geoblock",
        _answering(200, {"blocked": False, "country": "CH", "region": "ZH"}),
    )
    assert fine.ok is True and "CH/ZH" in fine.detail
    odd = check_geoblock("https://x/api/geoblock", _answering(200, {"ip": "1.2.3.4"}))
    assert odd.ok is None


def test_clock_skew_warns_beyond_the_limit(
    fake_polymarket_thread: ThreadedFakePolymarket, session: ClobSession
) -> None:
    # The fake's clock is frozen at 2026-01-01: far from this machine's.
    skewed = check_clock(session, 5.0)
    assert skewed.ok is False and skewed.label == "WARN"
    server = float(fake_polymarket_thread.call(fake_polymarket_thread.fake.world.clock.now))
    assert check_clock(session, 5.0, clock=lambda: server + 2).ok is True
    assert check_clock(session, 5.0, clock=lambda: server + 9).label == "WARN"


def test_positions_held_are_counted_and_an_unreachable_data_api_warns(
    fake_polymarket_thread: ThreadedFakePolymarket, session: ClobSession
) -> None:
    t = fake_polymarket_thread
    info = next(i for i in t.fake.world.catalog.markets.values() if not i.closed)
    t.call(t.fake.exchange.fund, session.wallet.signer, 100.0, {info.market.yes_token: 12.0})
    held = check_positions(session)
    assert held.ok is True and held.detail.startswith("1 position(s) held by 0x")
    t.call(lambda: t.fake.faults.http_error(502, count=None, service="gamma", path="/positions"))
    down = check_positions(session)
    assert down.label == "WARN" and "HTTP 502" in down.detail and "data_url" in down.hint


def test_run_live_checks_skips_network_checks_for_a_broken_wallet(
    fake_polymarket_thread: ThreadedFakePolymarket,
) -> None:
    clob = ClobSettings(
        host=fake_polymarket_thread.urls.clob,
        geoblock_url=fake_polymarket_thread.urls.clob + "/api/geoblock",
        data_url=fake_polymarket_thread.urls.data,
    )
    broken = run_live_checks(cfg(signature_type=2), clob)
    assert broken["signature type / funder"].ok is False
    skipped = ("credentials", "balance / allowances", "positions held", "clock skew")
    assert {broken[k].ok for k in skipped} == {None}
    good = run_live_checks(cfg(), clob)
    labels = {name: r.label for name, r in good.items()}
    assert labels == {
        "signature type / funder": "OK",
        "credentials": "OK",
        "balance / allowances": "OK",
        "positions held": "OK",
        "geoblock": "UNKNOWN",
        "clock skew": "WARN",
    }
    assert all(isinstance(r, CheckResult) and len(r) == 4 for r in good.values())
