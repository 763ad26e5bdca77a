"""Recording a feed and replaying it through the same engine."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from engine.config import load_settings
from engine.events import (
    BookBatch,
    BookSnapshot,
    BookTrust,
    LevelChange,
    MarketListed,
    MarketResolved,
    PriceChange,
    SourceEvent,
    TickSizeChange,
    TradeBatch,
    TradePrint,
    WholeBooks,
)
from engine.models import Side
from engine.sources.event_codec import EventDecodeError, decode_event, encode_event
from polyb0t_tui.runtime import Runtime, StartupError, build_runtime, open_storage
from tests.sim_edge import with_edge
from tests.state_factories import T0, market

START = "2026-03-02T00:00:00Z"


def _events() -> list[SourceEvent]:
    m = market(1, event_id="ev", description="rules", resolved=False)
    return [
        MarketListed(m, T0),
        BookSnapshot(
            m.yes_token,
            T0,
            np.array([0.4, 0.39]),
            np.array([10.0, 5.5]),
            np.array([0.42]),
            np.array([7.25]),
            "abc",
        ),
        BookBatch(
            tokens=[m.yes_token],
            frame_ts=np.array([T0]),
            snap_frame=np.array([0]),
            snap_token=np.array([0]),
            level_frame=np.array([0, 0, 0]),
            level_token=np.array([0, 0, 0]),
            level_bid=np.array([True, True, False]),
            level_price=np.array([0.4, 0.39, 0.42]),
            level_size=np.array([10.0, 5.5, 7.25]),
        ),
        WholeBooks(
            T0,
            (m.yes_token,),
            np.array([[0.4, 0.39]]),
            np.array([[10.0, 5.5]]),
            np.array([2]),
            np.array([[0.42, np.nan]]),
            np.array([[7.25, 0.0]]),
            np.array([1]),
        ),
        TradeBatch(
            T0 + 1,
            (m.yes_token, m.yes_token),
            np.array([0.41, 0.42]),
            np.array([3.0, 1.5]),
            np.array([True, False]),
        ),
        PriceChange(
            m.yes_token,
            T0 + 1,
            (LevelChange(Side.BUY, 0.41, 3.0), LevelChange(Side.SELL, 0.42, 0.0)),
        ),
        TradePrint(m.yes_token, T0 + 2, 0.41, 12.5, Side.SELL),
        TickSizeChange(m.yes_token, T0 + 3, 0.01, 0.001),
        BookTrust(m.market_id, T0 + 4, False, "feed silent"),
        MarketResolved(m.market_id, T0 + 5, 1.0),
    ]


def _same(a: SourceEvent, b: SourceEvent) -> bool:
    if isinstance(a, WholeBooks) and isinstance(b, WholeBooks):
        matrices = ("bid_px", "bid_sz", "bid_n", "ask_px", "ask_sz", "ask_n")
        return (a.ts, a.asset_ids) == (b.ts, b.asset_ids) and all(
            np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True) for f in matrices
        )
    if isinstance(a, TradeBatch) and isinstance(b, TradeBatch):
        return (a.ts, a.asset_ids) == (b.ts, b.asset_ids) and all(
            np.array_equal(getattr(a, f), getattr(b, f)) for f in ("price", "size", "buy")
        )
    if isinstance(a, BookBatch) and isinstance(b, BookBatch):
        fields = ("frame_ts", "snap_frame", "snap_token", "level_frame", "level_token",
                  "level_bid", "level_price", "level_size")  # fmt: skip
        return a.tokens == b.tokens and all(
            np.array_equal(getattr(a, f), getattr(b, f)) for f in fields
        )
    if isinstance(a, BookSnapshot) and isinstance(b, BookSnapshot):
        return (
            a.asset_id == b.asset_id
            and a.ts == b.ts
            and all(
                np.array_equal(getattr(a, f), getattr(b, f))
                for f in ("bid_px", "bid_sz", "ask_px", "ask_sz")
            )
        )
    return a == b


def test_every_event_type_round_trips_exactly() -> None:
    for ev in _events():
        kind, payload = encode_event(ev)
        assert _same(decode_event(kind, payload), ev), kind


def test_malformed_recordings_raise_one_clear_error() -> None:
    with pytest.raises(EventDecodeError, match="malformed"):
        decode_event("TradePrint", '{"asset_id": "x"}')
    with pytest.raises(EventDecodeError, match="malformed"):
        decode_event("BookSnapshot", "{not json")
    with pytest.raises(EventDecodeError, match="unknown recorded event kind"):
        decode_event("Teleport", "{}")


def _run(tmp_path: Path, **over: object) -> Runtime:
    settings = load_settings(  # an edge the baseline knows (tests.sim_edge): it trades
        None,
        with_edge(
            {
                "data_dir": str(tmp_path / "data"),
                "sim": {"seed": 7, "start": START, "markets": 150},
                **over,
            }
        ),
    )
    rt = build_runtime(settings, speed=None)
    asyncio.run(rt.engine.run(asyncio.Event(), cycles=120))
    return rt


def _fills(rt: Runtime) -> list[tuple[object, ...]]:
    return [
        (f.ts, f.market_id, f.outcome, f.side, f.price, f.size, f.fee)
        for f in rt.storage.store.fills(rt.run_id)
    ]


def test_a_replayed_recording_trades_exactly_like_the_live_run(tmp_path: Path) -> None:
    live = _run(tmp_path, record=True)
    assert _fills(live), "the recorded run should trade"
    replay = _run(tmp_path, source="replay")
    assert replay.source.name == "replay"
    assert _fills(replay) == _fills(live)
    assert replay.storage.store.markets()  # the listings came from the recording


def test_replay_without_a_recording_says_how_to_make_one(tmp_path: Path) -> None:
    settings = load_settings(None, {"data_dir": str(tmp_path / "data"), "source": "replay"})
    with pytest.raises(StartupError, match="record = true"):
        build_runtime(settings, storage=open_storage(settings))


def test_replay_of_an_unknown_or_unrecorded_run_says_which(tmp_path: Path) -> None:
    plain = _run(tmp_path)  # recorded nothing
    for run, why in (("nope", "no run 'nope' in this database"), (plain.run_id, "recorded no")):
        settings = load_settings(
            None, {"data_dir": str(tmp_path / "data"), "source": "replay", "replay_run": run}
        )
        with pytest.raises(StartupError, match=why):
            build_runtime(settings, storage=open_storage(settings))


def test_a_bad_recorded_event_is_skipped_not_fatal(tmp_path: Path) -> None:
    from engine.sources.replay import ReplaySource
    from engine.storage import CycleRecord, RecordedEvent

    storage = open_storage(load_settings(None, {"data_dir": str(tmp_path / "data")}))
    good = [RecordedEvent(e.ts, *encode_event(e)) for e in _events()[:2]]
    storage.store.record_cycle(
        CycleRecord(
            run_id="r1",
            ts=T0,
            recorded=[good[0], RecordedEvent(T0, "TradePrint", "{broken"), good[1]],
        )
    )
    src = ReplaySource(storage.store)
    out = src.poll(T0 + 100)
    assert [type(e).__name__ for e in out] == ["MarketListed", "BookSnapshot"]
    assert src.poll(T0 + 200) == [] and src.finished


def test_a_replay_without_a_cycle_limit_ends_where_its_recording_did(tmp_path: Path) -> None:
    live = _run(tmp_path, record=True)
    settings = load_settings(
        None,
        with_edge(  # the recorded run's strategy, to trade as it did
            {
                "data_dir": str(tmp_path / "data"),
                "sim": {"seed": 7, "start": START, "markets": 150},
                "source": "replay",
            }
        ),
    )
    replay = build_runtime(settings, speed=None)
    summary = asyncio.run(replay.engine.run(asyncio.Event()))  # no --cycles, no --duration
    recorded = live.storage.store.run(live.run_id)
    assert recorded is not None and recorded.ended_ts is not None
    assert summary.stopped_by == "end of recording"
    assert summary.cycles == 120 and summary.end_ts <= recorded.ended_ts
    assert _fills(replay) == _fills(live)
