"""No secret (private key, API secret, passphrase) in logs, exception texts, reprs or the
database, through a whole live session: fills, refusals, faults, bad credentials, doctor."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest
from py_clob_client_v2 import ClobClient
from pydantic import SecretStr
from sqlalchemy import inspect, text

from engine.config import LiveSettings
from engine.execution.clob_client import ClobError
from engine.execution.clob_executor import LiveSetupError, build_live_executor
from engine.execution.clob_settings import ClobSettings
from engine.execution.clob_wallet import WalletKeys
from engine.execution.live_checks import run_live_checks
from engine.models import IntentState, Outcome, Side
from engine.storage import Database
from fake_polymarket import FakeConfig, ThreadedFakePolymarket
from polyb0t_tui.runtime import build_runtime
from tests.fake_exchange_fixture import (
    WALLET_KEY,
    edge_sim_settings,
    fake_polymarket_thread_fixture,  # noqa: F401  (registers the fixture)
    funded_live_settings,
    pending_intents,
    until_state,
)
from tests.test_live_executor import approved, best, make_live, pick_market


def _everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    fmt = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(fmt.format(r) for r in caplog.records)


def _database_text(db: Database) -> str:
    out: list[str] = []
    with db.read() as conn:
        for table in inspect(conn).get_table_names():
            out.extend(str(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"')))
    return "\n".join(out)


def test_secrets_never_leak(
    fake_polymarket_thread: ThreadedFakePolymarket,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the SDK's and httpx's included
    t = fake_polymarket_thread
    creds = ClobClient(t.urls.clob, 137, key=WALLET_KEY).create_or_derive_api_key()
    secrets = [
        WALLET_KEY.removeprefix("0x").lower(),
        creds.api_secret,
        creds.api_passphrase,
    ]
    live_cfg = LiveSettings(
        dry_run=False,
        private_key=SecretStr(WALLET_KEY),
        api_key=SecretStr(creds.api_key),
        api_secret=SecretStr(creds.api_secret),
        api_passphrase=SecretStr(creds.api_passphrase),
    )
    texts: list[str] = [repr(live_cfg), str(live_cfg), repr(WalletKeys.from_settings(live_cfg))]
    clob = ClobSettings(host=t.urls.clob, heartbeat_interval_s=None, post_timeout_s=0.3)
    lv = make_live(t, tmp_path, settings=live_cfg, post_timeout_s=0.3)
    executor, store = lv.executor, lv.store
    texts += [repr(executor), repr(executor.session), repr(executor.session._client.creds)]

    info = pick_market(t)
    ask, bid = best(t, info, Outcome.YES, False), best(t, info, Outcome.YES, True)
    texts += executor.poll(lv.now())
    texts.append(executor.execute(approved(lv, info, price=ask), lv.now()))  # fills
    too_many = approved(lv, info, side=Side.SELL, size=500, price=bid)
    texts.append(executor.execute(too_many, lv.now()))  # refused: not enough shares
    t.call(t.fake.faults.timeout_after_accept, 1.0)
    texts.append(executor.execute(approved(lv, info, price=ask), lv.now()))  # timeout
    t.call(lambda: t.fake.faults.http_error(500, count=2, path="/order"))
    texts.append(executor.execute(approved(lv, info, price=ask), lv.now()))  # 5xx burst
    texts += [repr(r) for r in executor.take_reports()]

    # Wrong credentials: every authenticated call is refused.
    forged = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
    secrets.append(forged)
    wrong = live_cfg.model_copy(update={"api_secret": SecretStr(forged)})
    bad = build_live_executor(wrong, live=True, store=store, clob=clob, sleep=lambda s: None)
    texts += bad.poll(lv.now())
    with pytest.raises(ClobError) as refused:
        bad.open_orders()
    texts += [str(refused.value), repr(refused.value)]
    for cfg in (wrong, live_cfg):
        with httpx.Client(timeout=2) as http:
            texts += [repr(c) for c in run_live_checks(cfg, clob, http).values()]

    # A malformed key is reported without being echoed.
    broken = "0x" + "zz" * 32
    secrets.append(broken.removeprefix("0x"))
    with pytest.raises(LiveSetupError) as setup:
        build_live_executor(
            live_cfg.model_copy(update={"private_key": SecretStr(broken)}), live=True, store=store
        )
    texts += [str(setup.value), repr(setup.value), repr(setup.value.__context__)]

    executor.close()
    bad.close()
    db = Database(f"sqlite:///{(tmp_path / 'live.db').as_posix()}")
    blob = "\n".join([*texts, _everything_logged(caplog), _database_text(db)]).lower()
    assert "filled" in blob and "not enough balance" in blob and "401" in blob  # it all ran
    logged = {r.name for r in caplog.records}
    assert "polyb0t.live" in logged and "httpx" in logged  # our logs and the libraries' seen
    leaked = [i for i, secret in enumerate(secrets) if secret.lower() in blob]
    assert leaked == []  # indexes into `secrets`, so a failure never prints one


def test_errors_that_quote_the_key_reach_the_database_masked(tmp_path: Path) -> None:
    """A live engine whose failures quote the private key (a step that raises with it, an
    order refused with it in the exchange's words): the key is in no row of the database,
    in any case, with or without its 0x."""

    key = WALLET_KEY
    quoted = f"signer {key.upper()} / {key.removeprefix('0x')} refused"
    with ThreadedFakePolymarket(edge_sim_settings(markets=30, seed=5), FakeConfig(speed=0.0)) as t:
        rt = build_runtime(funded_live_settings(t, str(tmp_path / "data")), live=True)
        assert rt.engine.approvals is not None and rt.engine.approvals.worker is not None
        session = rt.engine.approvals.worker.executor.session

        def refuse(market_id: str) -> object:
            raise ClobError(f"market rules: {quoted}", status=400)

        session.market_rules = refuse  # type: ignore[method-assign,assignment]
        poll = rt.source.poll
        failed_once: list[bool] = []

        def poll_once_broken(now: float) -> object:
            if not failed_once:
                failed_once.append(True)
                raise RuntimeError(f"feed: {quoted}")
            return poll(now)

        rt.source.poll = poll_once_broken  # type: ignore[method-assign,assignment]
        store = rt.storage.intents

        async def main() -> str:
            stop = asyncio.Event()
            engine = asyncio.create_task(rt.engine.run(stop, duration=30.0))
            iid = (await pending_intents(store))[0].intent_id
            await asyncio.to_thread(rt.commands.approve, iid)
            await until_state(store, iid, lambda s: s is IntentState.FAILED)
            stop.set()
            await engine
            return iid

        iid = asyncio.run(main())
    failed = rt.storage.intents.require(iid)
    assert failed.state is IntentState.FAILED and "********" in (failed.reason or "")
    events = [e.message for e in rt.storage.store.recent_events(rt.run_id, 500)]
    assert any("feed: signer ********" in m for m in events), events
    blob = _database_text(rt.storage.db).lower()
    assert key.removeprefix("0x").lower() not in blob
