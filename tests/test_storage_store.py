"""Store: one cycle in one transaction, domain objects back out, and the report's numbers."""

from __future__ import annotations

import math
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.models import (
    ExecutionReport,
    Fill,
    Market,
    OrderRequest,
    Outcome,
    Position,
    Side,
    Signal,
)
from engine.storage import (
    CycleRecord,
    DailyPnl,
    Database,
    EngineStatus,
    EventRecord,
    Snapshot,
    Store,
    utc_day,
)
from engine.storage.tables import SignalRow, SnapshotRow, table_of

T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC
RUN = "run-1"


def _signal(ts: float, market: str, decision: str, reason: str | None = None) -> Signal:
    return Signal(
        ts=ts,
        market_id=market,
        outcome=Outcome.NO,
        side=Side.BUY,
        p_model=0.62,
        p_market=0.55,
        price=0.56,
        edge=0.05,
        size=20.0,
        decision=decision,
        reason=reason,
    )


def _order(order_id: str, ts: float, size: float = 20.0) -> OrderRequest:
    return OrderRequest(
        order_id=order_id,
        ts=ts,
        market_id="m1",
        token_id="tok-no",
        outcome=Outcome.NO,
        side=Side.BUY,
        size=size,
        limit_price=0.57,
        p_model=0.62,
        edge=0.05,
    )


def _fill(order_id: str, ts: float, price: float, size: float, fee: float) -> Fill:
    return Fill(order_id, ts, "m1", Outcome.NO, Side.BUY, price, size, fee)


def _status(equity: float, ts: float, cycle: int = 1) -> EngineStatus:
    return EngineStatus(
        state="running",
        cash=equity - 11.2,
        equity=equity,
        peak_equity=max(equity, 1000.0),
        exposure=11.2,
        cycle=cycle,
        updated_ts=ts,
        pid=4242,
    )


def _market(market_id: str, question: str = "Will it rain?") -> Market:
    return Market(
        market_id=market_id,
        question=question,
        category="weather",
        yes_token=f"{market_id}-yes",
        no_token=f"{market_id}-no",
        created_ts=T0 - 86_400,
        end_ts=T0 + 86_400,
        tick_size=0.001,
        min_order_size=5.0,
        fee_rate=0.02,
        event_id="ev-1",
        neg_risk=True,
        volume=12_345.0,
        liquidity=678.0,
        description="Resolves YES if it rains.",
    )


def _first_cycle() -> CycleRecord:
    ts = T0 + 10
    fills = [_fill("o1", ts, 0.56, 12.0, 0.05), _fill("o1", ts, 0.57, 8.0, 0.04)]
    return CycleRecord(
        run_id=RUN,
        ts=ts,
        signals=[
            _signal(ts, "m1", "order"),
            _signal(ts, "m2", "rejected", "max_position: 0.06 > 0.05"),
            _signal(ts, "m3", "rejected", "max_position: 0.07 > 0.05"),
            _signal(ts, "m4", "rejected", "min_edge: 0.01 < 0.05"),
            _signal(ts, "m5", "rejected", "stale_data"),
        ],
        orders=[ExecutionReport(_order("o1", ts), fills=fills, status="filled")],
        fills=fills,
        positions=[Position("m1", Outcome.NO, 20.0, 0.564, 0.0, "ev-1")],
        snapshots=[
            Snapshot(ts, "m1", 0.44, 0.46, 0.45, 0.02, 100.0, 80.0, 0.45, 5_000.0),
            Snapshot(ts, "m2", math.nan, 0.50, math.nan, math.nan),
        ],
        events=[EventRecord(ts, "INFO", "cycle", "first cycle")],
        state=_status(1000.0, ts),
        daily_pnl=DailyPnl(utc_day(ts), 1000.0, 1000.0, 1000.0, 0.0, 0.0, 0.09, 2),
    )


@pytest.fixture
def store(db: Database) -> Store:
    s = Store(db)
    s.start_run(RUN, T0, "paper", "sim", seed=42, settings_json='{"risk": {}}')
    return s


def test_runs_start_end_latest(store: Store) -> None:
    run = store.latest_run()
    assert run is not None
    assert (run.run_id, run.mode, run.source, run.seed, run.status) == (
        RUN,
        "paper",
        "sim",
        42,
        "running",
    )
    assert run.settings_json == '{"risk": {}}' and run.ended_ts is None
    store.start_run("run-2", T0 + 100, "live", "polymarket")
    latest = store.latest_run()
    assert latest is not None and latest.run_id == "run-2"
    assert store.end_run(RUN, "stopped", T0 + 200)
    assert not store.end_run("nope", "stopped", T0 + 200)
    ended = store.run(RUN)
    assert ended is not None and ended.status == "stopped" and ended.ended_ts == T0 + 200


def test_record_cycle_round_trips(store: Store, db: Database) -> None:
    batch = _first_cycle()
    store.record_cycle(batch)

    assert store.positions(RUN) == batch.positions
    assert store.fills(RUN) == batch.fills
    assert store.fills(RUN, limit=1) == batch.fills[-1:]
    assert store.signals(RUN) == batch.signals
    assert store.engine_state(RUN) == batch.state
    assert store.engine_state("other") is None
    assert store.recent_events(RUN, limit=10) == batch.events

    snaps = table_of(SnapshotRow)
    with db.read() as conn:
        stored = conn.execute(select(snaps).order_by(snaps.c.market_id)).mappings().all()
    assert [r["market_id"] for r in stored] == ["m1", "m2"]
    assert stored[0]["bid_depth"] == 100.0 and stored[0]["volume"] == 5_000.0
    assert stored[1]["best_bid"] is None and stored[1]["mid"] is None  # NaN -> NULL
    assert stored[1]["best_ask"] == 0.50 and stored[1]["run_id"] == RUN


def test_report_numbers(store: Store) -> None:
    store.record_cycle(_first_cycle())
    report = store.report()
    assert report.run_id == RUN
    assert report.fills == 2
    assert report.notional == pytest.approx(0.56 * 12 + 0.57 * 8)
    assert report.fees == pytest.approx(0.09)
    assert report.signals == 5
    assert report.orders == {"filled": 1}
    assert report.rejections_by_reason == {"max_position": 2, "min_edge": 1, "stale_data": 1}
    assert report.start_equity == 1000.0 and report.end_equity == 1000.0
    assert report.pnl == 0.0
    assert report.realized_pnl == 0.0


def test_later_cycles_update_orders_positions_and_state(store: Store) -> None:
    store.record_cycle(_first_cycle())
    ts = T0 + 3_600
    sell = Fill("o2", ts, "m1", Outcome.NO, Side.SELL, 0.70, 20.0, 0.03)
    store.record_cycle(
        CycleRecord(
            run_id=RUN,
            ts=ts,
            orders=[
                ExecutionReport(_order("o2", ts), fills=[sell], status="filled"),
                ExecutionReport(_order("o3", ts), status="pending"),
            ],
            fills=[sell],
            positions=[
                Position("m1", Outcome.NO, 0.0, 0.564, 2.72, "ev-1"),
                Position("m7", Outcome.YES, 10.0, 0.30),
            ],
            state=_status(1002.72, ts, cycle=2),
            daily_pnl=DailyPnl(utc_day(ts), 1000.0, 1002.72, 1002.72, 2.72, 0.0, 0.12, 3),
        )
    )
    # The pending order fills in a later cycle: its row is overwritten, not duplicated.
    later = T0 + 3_700
    late_fill = _fill("o3", later, 0.57, 20.0, 0.05)
    store.record_cycle(
        CycleRecord(
            run_id=RUN,
            ts=later,
            orders=[ExecutionReport(_order("o3", ts), fills=[late_fill], status="filled")],
            fills=[late_fill],
        )
    )
    assert store.positions(RUN) == [Position("m7", Outcome.YES, 10.0, 0.30)]
    closed = store.positions(RUN, include_closed=True)
    assert [(p.market_id, p.size, p.realized_pnl) for p in closed] == [
        ("m1", 0.0, 2.72),
        ("m7", 10.0, 0.0),
    ]
    state = store.engine_state(RUN)
    assert state is not None and state.cycle == 2 and state.equity == 1002.72

    report = store.report(RUN)
    assert report.orders == {"filled": 3}
    assert report.fills == 4
    assert report.realized_pnl == pytest.approx(2.72)
    assert report.start_equity == 1000.0 and report.end_equity == 1002.72
    assert report.pnl == pytest.approx(2.72)


def test_report_time_window(store: Store) -> None:
    store.record_cycle(_first_cycle())  # day 1: 2 fills, 5 signals
    day2 = T0 + 86_400 + 60
    store.record_cycle(
        CycleRecord(
            run_id=RUN,
            ts=day2,
            signals=[_signal(day2, "m9", "rejected", "cooldown: 300 s left")],
            fills=[_fill("o9", day2, 0.40, 10.0, 0.01)],
            state=_status(1010.0, day2, cycle=9),
            daily_pnl=DailyPnl(utc_day(day2), 1005.0, 1010.0, 1011.0, 4.0, 1.0, 0.01, 1),
        )
    )
    second_day = store.report(RUN, since_ts=T0 + 86_400)
    assert (second_day.fills, second_day.signals) == (1, 1)
    assert second_day.notional == pytest.approx(4.0)
    assert second_day.rejections_by_reason == {"cooldown": 1}
    assert second_day.realized_pnl == pytest.approx(4.0)
    assert (second_day.start_equity, second_day.end_equity) == (1005.0, 1010.0)

    first_day = store.report(RUN, since_ts=T0, until_ts=T0 + 86_400 - 1)
    assert (first_day.fills, first_day.signals) == (2, 5)
    assert (first_day.start_equity, first_day.end_equity) == (1000.0, 1000.0)

    assert store.fills(RUN, since_ts=T0 + 86_400) == [_fill("o9", day2, 0.40, 10.0, 0.01)]


def test_report_without_runs_is_empty(db: Database) -> None:
    report = Store(db).report()
    assert report.run_id is None and report.fills == 0 and report.pnl is None


def test_record_cycle_is_all_or_nothing(store: Store, db: Database) -> None:
    bad = _first_cycle()
    bad.fills.append(Fill("o1", T0, None, Outcome.YES, Side.BUY, 0.5, 1.0, 0.0))  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        store.record_cycle(bad)
    with db.read() as conn:
        assert conn.execute(select(table_of(SignalRow))).first() is None
    assert store.positions(RUN) == [] and store.engine_state(RUN) is None


def test_daily_pnl_upsert(store: Store) -> None:
    day = utc_day(T0)
    assert day == "2026-01-01"
    store.record_daily_pnl(RUN, DailyPnl(day, 1000.0, 990.0, 1000.0, -10.0, 0.0, 0.5, 3))
    store.record_daily_pnl(RUN, DailyPnl(day, 1000.0, 995.0, 1000.0, -5.0, 0.0, 0.6, 4))
    report = store.report(RUN, since_ts=T0)
    assert report.realized_pnl == -5.0 and report.end_equity == 995.0


def test_markets_upsert_and_resolve(store: Store) -> None:
    store.upsert_markets([_market("m1"), _market("m2")], now=T0)
    store.upsert_markets([_market("m1", "Will it pour?")], now=T0 + 5)
    assert store.markets() == [_market("m1", "Will it pour?"), _market("m2")]
    assert store.mark_resolved("m2", 1.0, T0 + 10)
    assert not store.mark_resolved("unknown", 1.0, T0 + 10)
    resolved = {m.market_id: m for m in store.markets()}["m2"]
    assert resolved.resolved and resolved.payout_yes == 1.0
    assert [m.market_id for m in store.markets(include_resolved=False)] == ["m1"]


def test_recent_events_are_the_last_ones_in_order(store: Store) -> None:
    events = [EventRecord(T0 + i, "INFO", "tick", f"event {i}") for i in range(30)]
    store.record_cycle(CycleRecord(run_id=RUN, ts=T0, events=events))
    assert store.recent_events(RUN, limit=5) == events[-5:]


def test_writes_from_a_worker_thread_while_reading(store: Store) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []

    def engine_loop() -> None:
        try:
            for cycle in range(40):
                ts = T0 + cycle
                store.record_cycle(
                    CycleRecord(
                        run_id=RUN,
                        ts=ts,
                        signals=[_signal(ts, "m1", "rejected", "min_edge: x")],
                        state=_status(1000.0, ts, cycle=cycle),
                    )
                )
        except BaseException as exc:  # re-raised by the test
            errors.append(exc)
        finally:
            stop.set()

    worker = threading.Thread(target=engine_loop)
    worker.start()
    while not stop.is_set():
        store.report(RUN)
        store.engine_state(RUN)
    worker.join()
    assert errors == []
    assert store.report(RUN).rejections_by_reason == {"min_edge": 40}
