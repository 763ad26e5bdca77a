"""End to end, live with dry_run off against the fake Polymarket: the engine proposes, a
person approves, exactly one order reaches the exchange, and our books match its account."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from engine.models import IntentState, Outcome
from engine.risk.account import AccountView
from fake_polymarket import FakeConfig, ThreadedFakePolymarket
from polyb0t_tui.runtime import Runtime, build_runtime
from tests.fake_exchange_fixture import (
    WALLET_KEY,
    edge_sim_settings,
    funded_live_settings,
    pending_intents,
    settings_against,
    sim_settings,
    until_state,
)

pytestmark = pytest.mark.slow
SHARE = 1_000_000
OPEN = (IntentState.PENDING, IntentState.APPROVED, IntentState.SUBMITTED)


async def _approve_one_and_wait(rt: Runtime, stop: asyncio.Event) -> str:
    """Wait for the engine to propose, approve the best idea, wait for its outcome."""
    store = rt.storage.intents
    best = max(await pending_intents(store), key=lambda i: i.edge)
    await asyncio.to_thread(rt.commands.approve, best.intent_id)
    await until_state(store, best.intent_id, lambda s: s not in OPEN)
    stop.set()
    return best.intent_id


def test_an_approved_intent_becomes_exactly_one_filled_order(tmp_path: Path) -> None:
    address = Account.from_key(WALLET_KEY).address
    with ThreadedFakePolymarket(edge_sim_settings(markets=30, seed=5), FakeConfig(speed=0.0)) as t:
        rt = build_runtime(funded_live_settings(t, str(tmp_path / "data")), live=True)

        async def main() -> str:
            stop = asyncio.Event()
            engine = asyncio.create_task(rt.engine.run(stop, duration=30.0))
            iid = await _approve_one_and_wait(rt, stop)
            await engine
            return iid

        iid = asyncio.run(main())
        final = rt.storage.intents.require(iid)
        assert final.state is IntentState.FILLED, final.reason
        orders = t.call(t.fake.exchange.open_orders)  # nothing left resting
        assert orders == []
        acct = t.call(t.fake.exchange.account, address)
        trades = [
            o for o in t.fake.exchange.orders.values() if o.address.lower() == address.lower()
        ]
        assert len(trades) == 1, "one intent, one order"
        usdc = acct.usdc / SHARE
        tokens = {k: v / SHARE for k, v in acct.tokens.items() if v}
    assert rt.portfolio.cash == pytest.approx(usdc, abs=1e-5)
    held = {
        rt.state.market(m).token(o): p.size  # type: ignore[union-attr]
        for (m, o), p in rt.portfolio.positions.items()
    }
    assert held == pytest.approx(tokens, abs=1e-5)
    fills = rt.storage.store.fills(rt.run_id)
    assert fills and {f.intent_id for f in fills} == {iid}


def test_tokens_the_wallet_already_holds_are_in_the_books_and_the_database(
    tmp_path: Path,
) -> None:
    """Bought before this run (an earlier run, or by hand): the engine starts with them,
    before its first cycle sizes anything, and `polyb0t status` shows them."""

    address = Account.from_key(WALLET_KEY).address
    with ThreadedFakePolymarket(sim_settings(markets=30, seed=5), FakeConfig(speed=0.0)) as t:
        market = next(i.market for i in t.fake.world.catalog.markets.values() if not i.closed)
        t.call(t.fake.exchange.fund, address, 1000.0, {market.no_token: 25.0})
        settings = settings_against(
            t.urls,
            str(tmp_path / "data"),
            live={"dry_run": False, "private_key": WALLET_KEY, "intent_poll_seconds": 0.2},
        )
        rt = build_runtime(settings, live=True)
        seen: list[dict[tuple[str, Outcome], float]] = []
        view = rt.cycle.account_view

        def watched(now: float) -> AccountView:
            account = view(now)
            seen.append(dict(account.held))
            return account

        rt.cycle.account_view = watched  # type: ignore[method-assign]
        summary = asyncio.run(rt.engine.run(asyncio.Event(), duration=2.0))
    assert summary.errors == 0
    key = (market.market_id, Outcome.NO)
    assert seen and seen[0].get(key) == pytest.approx(25.0)  # the first cycle counts them
    assert rt.portfolio.positions[key].size == pytest.approx(25.0)
    stored = {(p.market_id, p.outcome): p.size for p in rt.storage.store.positions(rt.run_id)}
    assert stored == {key: pytest.approx(25.0)}


def test_a_slow_order_post_stalls_neither_the_cycles_nor_the_kill_switch(tmp_path: Path) -> None:
    """Exchange calls run in the live worker, not in the engine step: while an order post
    hangs at the exchange for seconds, cycles keep their interval and a kill switch halts at
    once."""
    post_s = 4.0
    with ThreadedFakePolymarket(edge_sim_settings(markets=30, seed=5), FakeConfig(speed=0.0)) as t:
        settings = funded_live_settings(t, str(tmp_path / "data"))
        rt = build_runtime(settings, live=True)
        cycle_times: list[float] = []
        run_cycle = rt.cycle.run

        def timed(now: float) -> Any:
            cycle_times.append(time.monotonic())
            return run_cycle(now)

        rt.cycle.run = timed  # type: ignore[method-assign]
        store = rt.storage.intents

        async def main() -> tuple[float, float, str | None]:
            stop = asyncio.Event()
            engine = asyncio.create_task(rt.engine.run(stop, duration=60.0))
            pending = await pending_intents(store)
            t.call(lambda: t.fake.faults.slow(post_s, path="/order", method="POST"))
            target = max(pending, key=lambda i: i.edge)
            await asyncio.to_thread(rt.commands.approve, target.intent_id)
            sent = await until_state(store, target.intent_id, lambda s: s is IntentState.SUBMITTED)
            assert sent is IntentState.SUBMITTED
            posting_from = time.monotonic()  # the post now hangs at the exchange
            await asyncio.sleep(post_s / 2)
            asked = time.monotonic()
            result = await rt.link.command("kill", reason="kill during a slow post")
            halted_after = time.monotonic() - asked
            assert result.ok, result.message
            reason = rt.control.reason
            await asyncio.sleep(post_s / 2)
            stop.set()
            await engine
            return posting_from, halted_after, reason

        posting_from, halted_after, reason = asyncio.run(main())
    during = [c for c in cycle_times if posting_from <= c <= posting_from + post_s]
    gaps = [b - a for a, b in itertools.pairwise(during)]
    assert len(during) >= post_s - 1, f"only {len(during)} cycles ran during the {post_s} s post"
    assert max(gaps) < 2 * settings.loop_interval_seconds, gaps
    assert halted_after < 1.0 and reason == "kill during a slow post"
