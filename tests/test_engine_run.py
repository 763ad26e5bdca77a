"""The engine loop and the cycle around the risk manager: bounds, kill switches, pauses,
stale data and surviving bad steps."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest

from engine.config import Settings, load_settings
from engine.models import EngineState, Outcome
from polyb0t_tui.runtime import Runtime, build_runtime
from tests.sim_edge import with_edge

START = "2026-03-02T00:00:00Z"


def _runtime(tmp_path: Path, **extra: object) -> Runtime:
    over: dict[str, object] = {
        "data_dir": str(tmp_path / "data"),
        "sim": {"seed": 7, "start": START, "markets": 200},
    }
    over.update(extra)
    # An edge the baseline knows (tests.sim_edge): these runs trade.
    settings: Settings = load_settings(None, with_edge(over))
    return build_runtime(settings, speed=None)


def _state(rt: Runtime) -> EngineState:
    return rt.control.state  # a call, so the type checker does not pin it between asserts


def _run(rt: Runtime, **kw: object) -> object:
    return asyncio.run(rt.engine.run(asyncio.Event(), **kw))  # type: ignore[arg-type]


def test_duration_bounds_a_run_in_engine_time(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    summary = _run(rt, duration=95.0)
    # cycles at t = 0, 10, ..., 90 s of simulated time
    assert summary.cycles == 10  # type: ignore[attr-defined]
    assert summary.end_ts - summary.start_ts <= 95.0  # type: ignore[attr-defined]


def test_a_daily_loss_halts_trading_and_is_recorded(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    _run(rt, cycles=2)
    rt.control.start()
    # A loss beyond the daily limit (5% of the day's start equity) appears.
    rt.portfolio.cash -= 0.06 * rt.settings.risk.bankroll
    out = rt.cycle.run(rt.clock.now() + 10)
    assert out.halted is not None and out.halted.startswith("daily_loss_limit")
    assert _state(rt) is EngineState.HALTED
    assert out.signals == [] and out.routed == 0
    assert out.skipped is not None and out.skipped.startswith("halted")
    # stays halted on the next cycle until a person resumes
    assert rt.cycle.run(rt.clock.now() + 20).skipped is not None
    assert rt.commands.resume() is True
    assert _state(rt) is EngineState.RUNNING


def test_a_drawdown_from_peak_halts_trading(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, risk={"max_drawdown_pct": 0.1, "daily_loss_limit_pct": 0.5})
    _run(rt, cycles=1)
    rt.control.start()
    rt.portfolio.cash -= 0.11 * rt.settings.risk.bankroll
    out = rt.cycle.run(rt.clock.now() + 10)
    assert out.halted is not None and out.halted.startswith("max_drawdown")


def test_pause_and_manual_kill_stop_new_orders(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    _run(rt, cycles=1)
    rt.control.start()
    assert rt.commands.pause()
    out = rt.cycle.run(rt.clock.now() + 10)
    assert out.routed == 0 and out.skipped is not None and "paused" in out.skipped
    assert rt.commands.resume()
    assert rt.commands.kill("operator pressed K")
    out = rt.cycle.run(rt.clock.now() + 20)
    assert out.routed == 0 and out.skipped == "halted: operator pressed K"


def test_stale_data_skips_trading_until_fresh(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    _run(rt, cycles=1)
    rt.control.start()
    later = rt.clock.now() + rt.settings.risk.stale_data_seconds + 60
    out = rt.cycle.run(later)  # nobody polled the source meanwhile: the newest book is old
    assert out.skipped is not None and out.skipped.startswith("stale data: newest book is")
    assert out.routed == 0
    assert _state(rt) is EngineState.RUNNING  # not a kill switch: resumes by itself


def test_no_book_at_all_is_stale_data_said_plainly(tmp_path: Path) -> None:
    """Markets listed but no book yet (a feed still connecting): no trading, and a reason a
    person can read rather than an age of NaN seconds."""
    rt = _runtime(tmp_path)
    rt.control.start()
    assert rt.cycle.run(rt.clock.now()).skipped == "stale data: no book yet"  # nothing listed
    for m in rt.source.discover()[:3]:
        rt.state.add_market(m)
    assert rt.state.n == 3
    out = rt.cycle.run(rt.clock.now())
    assert out.skipped == "stale data: no book yet" and out.routed == 0


def test_a_failing_step_is_logged_and_the_engine_keeps_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = _runtime(tmp_path)
    calls = {"n": 0}
    real_poll = rt.source.poll

    def flaky(now: float) -> list[object]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise ValueError("malformed payload from the source")
        return real_poll(now)  # type: ignore[return-value]

    monkeypatch.setattr(rt.source, "poll", flaky)
    summary = _run(rt, cycles=6)
    assert summary.errors == 1  # type: ignore[attr-defined]
    assert summary.cycles == 6  # type: ignore[attr-defined]
    events = rt.storage.store.recent_events(rt.run_id, limit=50)
    assert any(e.kind == "step_failed" and "malformed" in e.message for e in events)


def test_repeated_failures_trip_the_error_rate_kill_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = _runtime(tmp_path)

    def broken(now: float) -> list[object]:
        raise ValueError("source down")

    monkeypatch.setattr(rt.source, "poll", broken)
    _run(rt, cycles=6)
    events = rt.storage.store.recent_events(rt.run_id, limit=50)
    assert any("error rate" in e.message for e in events)


def test_listings_and_resolutions_are_stored_with_the_step(tmp_path: Path) -> None:
    rt = _runtime(
        tmp_path, sim={"seed": 7, "start": START, "markets": 100, "new_listings_per_day": 48.0}
    )
    _run(rt, duration=3 * 3600.0)
    resolved = [m for m in rt.state.markets if m.resolved]
    assert resolved, "some markets should resolve within three simulated hours"
    stored = {m.market_id: m for m in rt.storage.store.markets()}
    assert len(stored) == rt.state.n  # initial markets and new listings
    for m in resolved:
        assert stored[m.market_id].resolved and stored[m.market_id].payout_yes == m.payout_yes


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_cycle_lines_report_the_fills_made_since_the_previous_line(tmp_path: Path) -> None:
    # Paper fills land a step after the cycle that placed the orders, so a line that only
    # counted its own step's fills would always say 0.
    rt = _runtime(tmp_path)
    engine_log = logging.getLogger("polyb0t.engine")
    # a handler on the logger itself: the app's logging setup stops propagation to root
    seen, level = _Lines(), engine_log.level
    engine_log.addHandler(seen)
    engine_log.setLevel(logging.INFO)
    try:
        summary = _run(rt, cycles=4)
    finally:
        engine_log.removeHandler(seen)
        engine_log.setLevel(level)
    logged = [
        int(m.group(1))
        for line in seen.lines
        if (m := re.search(r"^cycle \d+ .* fills=(\d+) ", line))
    ]
    assert len(logged) == 4
    assert summary.fills > 0  # type: ignore[attr-defined]
    # every fill before the last cycle line is on some line; none is counted twice
    assert 0 < sum(logged) <= summary.fills  # type: ignore[attr-defined]
    assert logged[0] == 0  # nothing can have filled before the first cycle placed orders


def test_holdings_without_an_event_count_toward_their_markets_event_group(
    tmp_path: Path,
) -> None:
    """Live fills and holdings adopted from the exchange carry no event id: the event cap
    must still see them, through the market's own event."""
    rt = _runtime(tmp_path)
    _run(rt, cycles=1)
    grouped = next(m for m in rt.source.discover() if m.event_id and rt.state.market(m.market_id))
    rt.portfolio.positions.clear()
    assert rt.portfolio.adopt(grouped.market_id, Outcome.YES, 40.0, 0.5)
    assert rt.portfolio.positions[(grouped.market_id, Outcome.YES)].event_id is None
    view = rt.cycle.account_view(rt.clock.now())
    assert grouped.event_id is not None
    assert view.exposure_by_event[grouped.event_id] == pytest.approx(20.0)
    rt.view.publish(rt.clock.now(), None, [])  # the console's breakdown counts it too
    pf = rt.view.store.pull().portfolio
    assert pf is not None and dict(pf.exposure_by_event)[grouped.event_id] == pytest.approx(20.0)


def test_holdings_brought_in_mid_run_are_not_a_gain_today_nor_a_new_peak(
    tmp_path: Path,
) -> None:
    """A live engine that reaches the exchange only after its first cycle adopts the
    wallet's tokens then: equity grows by their value, which nobody earned today."""
    rt = _runtime(tmp_path)
    _run(rt, cycles=2)
    now = rt.clock.now()
    before = rt.cycle.account_view(now)
    m = next(m for m in rt.source.discover() if rt.state.mid(m.market_id, Outcome.YES) > 0)
    worth = rt.state.mid(m.market_id, Outcome.YES)
    assert rt.portfolio.adopt(m.market_id, Outcome.YES, 100.0, 0.2, worth=worth)
    after = rt.cycle.account_view(now)
    assert after.equity == pytest.approx(before.equity + 100 * worth)
    assert after.equity - after.day_start_equity == pytest.approx(
        before.equity - before.day_start_equity
    )
    assert after.peak_equity - after.equity == pytest.approx(before.peak_equity - before.equity)
    assert rt.portfolio.take_brought_in() == 0.0  # taken once
