"""Live mode on the sim: intents instead of orders, human-sized expiry, approval re-checked
against the book, dry-run execution, and no re-proposing the same idea every cycle."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.config import Settings, load_settings
from engine.events import BookSnapshot
from engine.execution.approvals import RUN_ENDED
from engine.execution.intents import IntentError
from engine.execution.routing import InFlight
from engine.models import IntentState, Side
from polyb0t_tui.cli import main
from polyb0t_tui.runtime import Runtime, StartupError, build_runtime, open_storage
from tests.engine_steps import stepped
from tests.sim_edge import EDGE_SIM_TOML, EDGE_STRATEGY_TOML, with_edge

START = "2026-03-02T00:00:00Z"


def _settings(tmp_path: Path, **extra: object) -> Settings:
    over: dict[str, object] = {
        "data_dir": str(tmp_path / "data"),
        "sim": {"seed": 7, "start": START, "markets": 300},
    }
    over.update(extra)
    return load_settings(None, with_edge(over))  # an edge the baseline knows: intents


def _live_runtime(tmp_path: Path, cycles: int = 3) -> Runtime:
    """A live (dry-run) engine `cycles` cycles into its run, the run still open."""
    return stepped(build_runtime(_settings(tmp_path), live=True, speed=None), cycles)


def test_live_cycle_creates_pending_intents_not_orders(tmp_path: Path) -> None:
    rt = _live_runtime(tmp_path, cycles=6)
    intents = rt.storage.intents.list()
    assert intents, "the seeded world should produce intents"
    assert rt.storage.store.fills(rt.run_id) == []  # nothing executes without a person
    settings = rt.settings
    for i in intents:
        assert i.state is IntentState.PENDING
        assert i.expires_ts - i.created_ts == settings.live.intent_expiry_seconds
        assert i.size >= settings.risk.min_order_shares
        assert i.size * i.limit_price >= settings.risk.min_marketable_usd
        assert i.edge >= settings.strategy.edge_threshold
    # sized against cash left after the pending intents themselves
    # (the engine's one definition of reserved cash: each intent at its limit, fee included)
    reserved = 0.0
    for i in intents:
        m = rt.state.market(i.market_id)
        assert m is not None
        reserved += InFlight(i.market_id, i.outcome, i.side, i.size, i.limit_price).max_cost(m.fees)
    assert rt.cycle.account_view(rt.clock.now()).reserved == pytest.approx(reserved)
    assert 0 < reserved <= settings.risk.bankroll
    # dedup and cooldown: one idea per market/token/side over six cycles, not six
    keys = [(i.market_id, i.outcome, i.side) for i in intents]
    assert len(keys) == len(set(keys))


def test_a_runs_end_expires_its_pending_intents_saying_so(tmp_path: Path) -> None:
    rt = build_runtime(_settings(tmp_path), live=True, speed=None)
    asyncio.run(rt.engine.run(asyncio.Event(), cycles=3))
    intents = rt.storage.intents.list()
    assert intents
    assert {(i.state, i.reason) for i in intents} == {(IntentState.EXPIRED, RUN_ENDED)}
    with pytest.raises(IntentError, match="EXPIRED, not PENDING"):
        rt.commands.approve(intents[0].intent_id)


def test_a_restarted_live_run_keeps_the_cooldown_of_the_markets_just_proposed(
    tmp_path: Path,
) -> None:
    first = _live_runtime(tmp_path)
    proposed = {i.market_id for i in first.storage.intents.list()}
    assert proposed
    rejected = first.storage.intents.list()[0]
    first.commands.reject(rejected.intent_id, "no")
    second = build_runtime(_settings(tmp_path), live=True, speed=None, storage=first.storage)
    asyncio.run(second.engine.run(asyncio.Event(), cycles=3))
    again = {i.market_id for i in second.storage.intents.list(run_id=second.run_id)}
    assert again and not again & proposed  # cooldown: not proposed again at once
    acted = second.cycle.last_action
    assert acted[rejected.market_id] >= first.clock.now()


def _approve_best(rt: Runtime) -> str:
    best = max(rt.storage.intents.list(), key=lambda i: i.edge)
    rt.commands.approve(best.intent_id)
    return best.intent_id


def test_approved_intent_is_rechecked_and_executed_as_dry_run(tmp_path: Path) -> None:
    rt = _live_runtime(tmp_path)
    iid = _approve_best(rt)
    assert rt.engine.approvals is not None
    rt.engine.approvals.process(rt.clock.now())
    intent = rt.storage.intents.require(iid)
    assert intent.state is IntentState.EXECUTED_DRYRUN
    # at most once: processing again changes nothing, and it cannot be approved again
    rt.engine.approvals.process(rt.clock.now())
    assert rt.storage.intents.require(iid).state is IntentState.EXECUTED_DRYRUN
    assert rt.storage.intents.approve(iid, rt.clock.now()) is False


def test_approval_fails_when_the_price_moved_past_the_tolerance(tmp_path: Path) -> None:
    rt = _live_runtime(tmp_path)
    iid = _approve_best(rt)
    intent = rt.storage.intents.require(iid)
    m = rt.state.market(intent.market_id)
    assert m is not None and intent.side is Side.BUY
    # The book runs away: every level of the token we buy is now 0.2 dearer.
    px = np.array([min(0.99, intent.limit_price + 0.2)])
    sz = np.array([10_000.0])
    if intent.outcome.name == "YES":
        ev = BookSnapshot(m.yes_token, rt.clock.now(), np.array([0.01]), sz, px, sz)
    else:  # NO asks are YES bids mirrored
        ev = BookSnapshot(m.yes_token, rt.clock.now(), 1.0 - px, sz, np.array([0.99]), sz)
    rt.state.apply([ev])
    assert rt.engine.approvals is not None
    rt.engine.approvals.process(rt.clock.now())
    failed = rt.storage.intents.require(iid)
    assert failed.state is IntentState.FAILED
    assert failed.reason is not None and "re-check" in failed.reason


def test_unanswered_intents_expire(tmp_path: Path) -> None:
    rt = _live_runtime(tmp_path)
    assert rt.engine.approvals is not None
    later = rt.clock.now() + rt.settings.live.intent_expiry_seconds + 1
    rt.engine.approvals.process(later)
    states = {i.state for i in rt.storage.intents.list()}
    assert states == {IntentState.EXPIRED}


def test_real_orders_need_the_real_exchange_and_credentials(tmp_path: Path) -> None:
    s = _settings(tmp_path, live={"dry_run": False})
    with pytest.raises(StartupError, match="need --source polymarket"):
        build_runtime(s, live=True)
    s = _settings(tmp_path, live={"dry_run": False}, source="polymarket")
    with pytest.raises(StartupError, match="need credentials"):
        build_runtime(s, live=True)


@pytest.mark.slow
def test_daemon_executes_an_intent_approved_from_another_process(tmp_path: Path) -> None:
    """The real thing: a live dry-run daemon, a CLI approval, the daemon carries it out."""
    data = tmp_path / "data"
    cfg = tmp_path / "c.toml"
    # Sim time tracks wall time (default start = now, speed 1), one-second cycles, and an
    # edge the baseline knows (tests.sim_edge), so that it proposes intents.
    lines = [f'data_dir = "{data.as_posix()}"', "loop_interval_seconds = 1.0", "[sim]"]
    lines += ["seed = 7", "step_seconds = 1.0", *EDGE_SIM_TOML, *EDGE_STRATEGY_TOML]
    cfg.write_text("\n".join([*lines, "[control]", "port = 0"]) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYBOT_")}
    log = (tmp_path / "daemon.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "polyb0t_tui",
            "run",
            "--daemon",
            "--live",
            "--speed",
            "1",
            "--config",
            str(cfg),
        ],
        stderr=log,
        text=True,
        env=env,
    )
    try:
        settings = load_settings(cfg)
        intents = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.3)
            try:
                intents = open_storage(settings, create=False).intents.list()
            except Exception:  # database not created yet
                continue
            if intents:
                break
        assert intents, "the daemon created no intent"
        best = max(intents, key=lambda i: i.edge)
        assert main(["intents", "approve", best.intent_id, "--config", str(cfg)]) == 0
        store = open_storage(settings, create=False).intents
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            state = store.require(best.intent_id).state
            if state is not IntentState.APPROVED:
                break
            time.sleep(0.2)
        final = store.require(best.intent_id)
        assert final.state is IntentState.EXECUTED_DRYRUN, final.reason
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        log.close()
    err = (tmp_path / "daemon.log").read_text()
    assert proc.returncode == 0, err
    assert "executed (dry run, nothing sent)" in err
