"""A live daemon killed (-9) while it sends orders loses nothing: every trade the exchange made
for us is in the database after a restart, with its intent's final state.

The reproduction from the issue: two intents approved in one poll, every order post held 3 s at
the exchange, the daemon killed 0.5 s into the second post. Before fills were written with the
intent's final state, the first order's fills were lost (the intent said FILLED; no fill, no
order row) and no restart repaired it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from eth_account import Account
from sqlalchemy import text

from engine.config import Settings
from engine.models import IntentState, TradeIntent
from fake_polymarket import FakeConfig, ThreadedFakePolymarket
from polyb0t_tui.runtime import build_runtime, open_storage
from tests.fake_exchange_fixture import WALLET_KEY, edge_sim_settings, funded_live_settings

pytestmark = pytest.mark.slow
S = IntentState
POST_SECONDS = 3.0


def _config_file(path: Path, settings: Settings) -> Path:
    pm = settings.polymarket
    path.write_text(
        f'data_dir = "{settings.data_dir.as_posix()}"\nsource = "polymarket"\n'
        "loop_interval_seconds = 1.0\n"
        f'[polymarket]\ngamma_url = "{pm.gamma_url}"\nclob_url = "{pm.clob_url}"\n'
        f'ws_url = "{pm.ws_url}"\ndata_url = "{pm.data_url}"\n'
        # the frozen fake sends no market data after its snapshots: keep its books usable
        f"stale_after_seconds = {settings.polymarket.stale_after_seconds}\n"
        "[control]\nenabled = false\n"
        "[live]\ndry_run = false\nintent_poll_seconds = 0.5\npost_timeout_seconds = 30.0\n"
        # the baseline told of the edge of the fake's world (edge_sim_settings)
        f"[strategy]\nlongshot_correction = {settings.strategy.longshot_correction!r}\n"
    )
    return path


def _wait_for(what: str, check: object, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while not check():  # type: ignore[operator]
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{log.read_text()}"
        time.sleep(0.02)


def test_a_daemon_killed_mid_post_loses_no_fill(tmp_path: Path) -> None:
    address = Account.from_key(WALLET_KEY).address
    with ThreadedFakePolymarket(edge_sim_settings(markets=60, seed=5), FakeConfig(speed=0.0)) as t:
        settings = funded_live_settings(t, str(tmp_path / "data"), intent_poll_seconds=0.5)
        settings.polymarket.stale_after_seconds = 600.0
        cfg = _config_file(tmp_path / "live.toml", settings)
        env = {k: v for k, v in os.environ.items() if not k.startswith("POLYBOT_")}
        env["POLYBOT_LIVE__PRIVATE_KEY"] = WALLET_KEY
        log = tmp_path / "daemon.log"
        cmd = [sys.executable, "-m", "polyb0t_tui", "run", "--daemon", "--live", "--config"]
        with log.open("w") as err:
            proc = subprocess.Popen([*cmd, str(cfg)], stderr=err, env=env)
        try:
            found: list[TradeIntent] = []

            def proposed() -> bool:
                try:
                    pending = open_storage(settings, create=False).intents.list([S.PENDING])
                except Exception:  # the database is not there yet
                    return False
                by_market = {i.market_id: i for i in pending}
                found[:] = sorted(by_market.values(), key=lambda i: -i.edge)[:2]
                return len(found) == 2

            _wait_for("two intents on two markets", proposed, proc, log)
            t.call(lambda: t.fake.faults.slow(POST_SECONDS, path="/order", method="POST"))
            store = open_storage(settings, create=False).intents
            for intent in found:  # both in one poll
                assert store.approve(intent.intent_id, time.time())
            second = found[1].intent_id

            def second_sent() -> bool:
                return store.require(second).state is S.SUBMITTED

            _wait_for("the second order to be sent", second_sent, proc, log)
            time.sleep(0.5)
            proc.kill()
            proc.wait(timeout=10)
            assert proc.returncode == -9
            t.call(t.fake.faults.clear)
            # Before any restart: the order that ended is on record whole, its fills with it.
            killed = open_storage(settings, create=False)
            done = killed.intents.get_record(found[0].intent_id)
            assert done is not None and done.intent.state in (S.FILLED, S.PARTIAL)
            assert done.order_id is not None and killed.intents.has_order(done.order_id)
            with killed.db.read() as conn:
                n = conn.execute(
                    text("SELECT COUNT(*) FROM fills WHERE order_id = :o"), {"o": done.order_id}
                ).scalar_one()
            assert n > 0

            restarted = build_runtime(settings, live=True)
            summary = asyncio.run(restarted.engine.run(asyncio.Event(), duration=2.0))
            assert summary.errors == 0
        finally:
            if proc.poll() is None:
                proc.kill()

        trades = t.call(lambda: list(t.fake.exchange.trades.values()))
    ours = Counter(tr.taker_order_id.lower() for tr in trades if tr.taker_address == address)
    assert ours, "the exchange made no trade for us: nothing was tested"
    storage = open_storage(settings, create=False)
    with storage.db.read() as conn:
        stored = Counter(r[0].lower() for r in conn.execute(text("SELECT order_id FROM fills")))
        orders = {r[0].lower() for r in conn.execute(text("SELECT order_id FROM orders"))}
        runs: dict[str, str] = {
            str(r[0]): str(r[1]) for r in conn.execute(text("SELECT run_id, status FROM runs"))
        }
    assert stored == ours, "every exchange trade of ours is a fill in the database"
    assert set(ours) <= orders, "and every order of ours has its row"
    first = storage.intents.require(found[0].intent_id)
    assert first.state in (S.FILLED, S.PARTIAL), (first.state, first.reason)
    # The second post was cut off before the exchange read it: the intent stays SUBMITTED
    # (looked up, never sent again) until the lookup grace ends, then FAILED.
    second_final = storage.intents.require(second)
    assert second_final.state in (S.SUBMITTED, S.FAILED), second_final.state
    assert "crashed" in runs.values(), runs  # the killed run, marked when next seen
