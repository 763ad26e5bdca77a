"""The console's view of the engine: change marks, panes, commands through the link."""

from __future__ import annotations

import asyncio
from pathlib import Path

from engine.config import load_settings
from engine.feed.view import ViewStore
from engine.storage import CycleRecord, Snapshot
from polyb0t_tui.runtime import Runtime, build_runtime
from tests.engine_steps import stepped
from tests.sim_edge import with_edge

START = "2026-03-02T00:00:00Z"


def _runtime(tmp_path: Path, live: bool = False, cycles: int = 3) -> Runtime:
    settings = load_settings(  # an edge the baseline knows (tests.sim_edge): it trades
        None,
        with_edge(
            {"data_dir": str(tmp_path / "data"), "sim": {"seed": 7, "start": START, "markets": 120}}
        ),
    )
    return stepped(build_runtime(settings, live=live, speed=None), cycles)


def test_first_pull_has_every_row_then_only_changes(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    full = rt.link.pull(0)
    assert full.full and full.n_rows == rt.state.n == len(full.rows)
    assert [r.row for r in full.rows] == list(range(rt.state.n))
    row = full.rows[0]
    assert row.question == rt.state.markets[0].question
    assert abs(row.mid - rt.state.mid(row.market_id)) < 1e-12
    assert full.status is not None and full.status.mode == "PAPER"
    assert full.status.state == "stopped" or full.status.cycle == 3
    assert full.experts and full.experts[0].name == "baseline"
    # nothing happened since: an empty row delta
    again = rt.link.pull(full.seq)
    assert again.rows == () and not again.full
    # one more step: only rows whose values changed come back
    st = rt.state
    before = {r.row: r for r in full.rows}
    rt.engine.step(rt.clock.now() + 10.0, True)
    delta = rt.link.pull(full.seq)
    assert 0 < len(delta.rows) < st.n
    for r in delta.rows:
        old = before[r.row]
        assert (r.bid, r.ask, r.p_model, r.edge, r.volume) != (
            old.bid,
            old.ask,
            old.p_model,
            old.edge,
            old.volume,
        ) or r.change_24h != old.change_24h


def test_a_remote_store_fed_with_deltas_matches_the_engine(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    mirror = ViewStore()
    seq = 0
    for _ in range(3):
        d = rt.link.pull(seq)
        mirror.apply(d)
        seq = d.seq
        rt.engine.step(rt.clock.now() + 10.0, True)
    mirror.apply(rt.link.pull(seq))
    ours, theirs = rt.link.pull(0), mirror.pull(0)
    assert ours.rows == theirs.rows
    assert ours.portfolio == theirs.portfolio


def test_portfolio_and_signal_panes_follow_the_engine(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, cycles=6)
    d = rt.link.pull(0)
    assert d.portfolio is not None
    assert abs(d.portfolio.cash - rt.portfolio.cash) < 1e-9
    assert len(d.portfolio.positions) == len(rt.portfolio.positions)
    assert d.signals and d.signals[0].ts >= d.signals[-1].ts  # newest first
    assert {s.decision for s in d.signals} <= {"order", "rejected"}


def test_commands_through_the_link_update_intents_at_once(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, live=True)
    d = rt.link.pull(0)
    assert d.status is not None and d.status.mode == "LIVE DRY-RUN"
    pending = [i for i in d.intents if i.state == "PENDING"]
    assert pending
    target = max(pending, key=lambda i: i.edge)
    check = asyncio.run(rt.link.command("recheck", intent_id=target.intent_id))
    assert check.ok and check.data["edge"] >= rt.settings.strategy.edge_threshold
    res = asyncio.run(rt.link.command("approve", intent_id=target.intent_id))
    assert res.ok, res.message
    after = rt.link.pull(d.seq)
    assert {i.intent_id: i.state for i in after.intents}[target.intent_id] == "APPROVED"
    again = asyncio.run(rt.link.command("approve", intent_id=target.intent_id))
    assert not again.ok and "not PENDING" in again.message
    bad = asyncio.run(rt.link.command("approve"))
    assert not bad.ok and "missing argument" in bad.message
    unknown = asyncio.run(rt.link.command("launch"))
    assert not unknown.ok and "unknown command" in unknown.message


def test_pause_resume_kill_show_in_the_status_at_once(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    rt.control.start()
    assert asyncio.run(rt.link.command("pause")).ok
    status = rt.link.pull(0).status
    assert status is not None and status.state == "paused"
    assert asyncio.run(rt.link.command("kill", reason="operator")).ok
    status = rt.link.pull(0).status
    assert status is not None and status.state == "halted" and status.reason == "operator"
    retrain = asyncio.run(rt.link.command("retrain"))
    assert not retrain.ok and "not built yet" in retrain.message


def test_market_detail_has_history_ladder_and_signals(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, cycles=6)
    d = rt.link.pull(0)
    market_id = d.signals[0].market_id
    det = asyncio.run(rt.link.detail(market_id))
    assert det is not None
    assert len(det.history) == 6 and det.history[0][0] < det.history[-1][0]
    assert det.bids and det.asks and det.bids[0][0] < det.asks[0][0]
    assert det.signals and det.signals[0].market_id == market_id
    assert asyncio.run(rt.link.detail("0xnope")) is None


def test_log_lines_reach_the_view_bounded(tmp_path: Path) -> None:
    import logging

    rt = _runtime(tmp_path, cycles=1)
    log = logging.getLogger("polyb0t.test")
    handler = rt.view.log_handler()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        for i in range(600):
            log.info("line %d", i)
    finally:
        log.removeHandler(handler)
    lines = rt.link.pull(0).log
    assert len(lines) == 500 and lines[-1].message == "line 599"


def test_a_full_delta_replaces_rows_a_restarted_engine_no_longer_has() -> None:
    from engine.feed.view import MarketRow, ViewDelta

    def row(i: int) -> MarketRow:
        return MarketRow(
            i, f"m{i}", "q", "c", 0.4, 0.42, 0.41, 0.02, 0.0, 1.0, 0.0, 0.5, 0.01, True, True
        )

    def full(n: int) -> ViewDelta:
        return ViewDelta(
            1, n, tuple(row(i) for i in range(n)), None, (), (), None, (), (), full=True
        )

    store = ViewStore()
    store.apply(full(5))
    store.apply(full(3))
    assert store.pull(0).n_rows == 3 and len(store.pull(0).rows) == 3


def test_the_price_chart_reaches_back_into_the_stored_history(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, cycles=6)
    m = rt.state.markets[0]
    live = asyncio.run(rt.link.detail(m.market_id))
    assert live is not None and len(live.history) == 6
    first = live.history[0][0]
    store = rt.storage.store
    day = 86_400.0
    store.upsert_price_history(
        m.market_id, m.yes_token, [first - 3 * day, first - 2 * day], [0.3, 0.35]
    )
    store.record_cycle(
        CycleRecord(
            run_id="an-earlier-run",
            ts=first - day,
            snapshots=[Snapshot(first - day, m.market_id, 0.39, 0.41, 0.40, 0.02)],
        )
    )
    full = asyncio.run(rt.link.detail(m.market_id))
    assert full is not None
    assert full.history[:3] == ((first - 3 * day, 0.3), (first - 2 * day, 0.35), (first - day, 0.4))
    assert full.history[3:] == live.history  # then the engine's own samples, unchanged


def test_stored_history_is_thinned_to_what_a_chart_can_show(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, cycles=1)
    m = rt.state.markets[0]
    ts = [1_000.0 + k for k in range(2_000)]
    rt.storage.store.upsert_price_history(m.market_id, m.yes_token, ts, [0.5] * len(ts))
    points = rt.storage.store.mid_history(m.market_id, until_ts=10_000.0, max_points=100)
    assert len(points) == 100 and points[0].ts == ts[0] and points[-1].ts == ts[-1]
    assert [p.ts for p in points] == sorted(p.ts for p in points)
