"""The sim's hidden truth is recorded for validation, and reaches nothing that predicts.

A sim run stores its markets' true P(YES) every `ml.sample_interval_seconds` of engine time
(`sim_truth`), asked of the source by the recorder through the `TruthSource` protocol; the
engine's state, the features and the predictor see exactly what they would without it.
"""

from __future__ import annotations

import gc
import types
from pathlib import Path
from typing import Any

import numpy as np

from engine.config import load_settings
from engine.decision.features import Features
from engine.sources.base import TruthSource
from engine.sources.sim import SimExchange
from engine.sources.sim.effects import Mispricing
from engine.sources.sim.world import World
from engine.storage import CycleRecord, Database, Store, TruthSample
from polyb0t_tui.runtime import Runtime, build_runtime, truth_source
from tests.engine_steps import stepped
from tests.sim_edge import with_edge

START = "2026-03-02T00:00:00Z"
CYCLES = 100  # 10 s cycles: engine times t0 .. t0 + 990 s, truth at t0 + 0, 300, 600, 900


def _runtime(tmp_path: Path, db_url: str | None = None, **extra: Any) -> Runtime:
    over: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "sim": {"seed": 7, "start": START, "markets": 80},
        **extra,
    }
    if db_url is not None:
        over["database_url"] = db_url
    return build_runtime(load_settings(None, with_edge(over)), speed=None)


def test_a_sim_run_stores_the_truth_every_sample_interval(tmp_path: Path, db_url: str) -> None:
    """On SQLite, and on PostgreSQL when POLYBOT_TEST_PG_URL is set."""
    rt = stepped(_runtime(tmp_path, db_url), CYCLES)
    assert isinstance(rt.source, TruthSource)
    stored = rt.storage.store.sim_truth(rt.run_id)
    t0 = rt.settings.sim.start.timestamp()  # type: ignore[union-attr]
    assert [s.ts for s in stored] == [t0 + k * 300.0 for k in range(4)]
    # the same world stepped alone to those times holds exactly those truths
    alone = SimExchange(rt.settings.sim, t0, batches=True)
    for sample in stored:
        alone.poll(sample.ts)
        ids, values = alone.truth_at(sample.ts)
        expected = dict(zip(ids, values.tolist(), strict=True))
        assert dict(zip(sample.market_ids, sample.values, strict=True)) == expected
    one = rt.storage.store.sim_truth(rt.run_id, market_id=stored[0].market_ids[0])
    assert [s.market_ids for s in one] == [(stored[0].market_ids[0],)] * 4
    rt.storage.db.close()


def test_nothing_is_stored_with_truth_recording_off(tmp_path: Path) -> None:
    rt = stepped(_runtime(tmp_path, ml={"record_truth": False}), 40)
    assert rt.engine.recorder.truth is None
    assert rt.storage.store.sim_truth(rt.run_id) == []


def test_the_truth_table_round_trips_and_orders_by_time_then_market(db: Database) -> None:
    store = Store(db)
    store.record_cycles(
        [
            CycleRecord("r", 600.0, truth=TruthSample(600.0, ("b", "a"), [0.25, 0.75])),
            CycleRecord("r", 300.0, truth=TruthSample(300.0, ("a",), [0.5])),
            CycleRecord("other", 300.0, truth=TruthSample(300.0, ("a",), [0.1])),
        ]
    )
    assert store.sim_truth("r") == [
        TruthSample(300.0, ("a",), [0.5]),
        TruthSample(600.0, ("a", "b"), [0.75, 0.25]),
    ]
    assert store.sim_truth("r", market_id="b") == [TruthSample(600.0, ("b",), [0.25])]


def _reachable(root: object) -> list[object]:
    """Every object reachable from `root` through instances, containers, arrays, bound
    methods and closures (not through classes, modules or a function's globals, which lead
    to everything)."""
    seen: set[int] = set()
    out: list[object] = []
    stack = [root]
    skip = (type, types.ModuleType, str, bytes, int, float, bool, types.BuiltinFunctionType)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, skip):
            continue
        seen.add(id(obj))
        out.append(obj)
        if isinstance(obj, types.FunctionType):
            stack.extend(c.cell_contents for c in obj.__closure__ or ())
            continue
        stack.extend(gc.get_referents(obj))
    return out


def test_the_truth_never_reaches_the_state_the_features_or_the_predictor(
    tmp_path: Path,
) -> None:
    """The same seed with truth recording on and off: the predictor is fed the very same
    features every cycle and the run trades the same; and nothing the cycle can reach (its
    state, features, predictor, risk, route) holds the simulator or its truth."""
    fed: dict[bool, list[Features]] = {True: [], False: []}
    runs: dict[bool, Runtime] = {}
    for on in (True, False):
        rt = _runtime(tmp_path / str(on), ml={"record_truth": on})
        predict = rt.cycle.predictor.predict

        def spy(features: Features, _fed: list[Features] = fed[on], _p: Any = predict) -> Any:
            _fed.append(Features(features.ts, {k: v.copy() for k, v in features.columns.items()}))
            return _p(features)

        rt.cycle.predictor.predict = spy  # type: ignore[method-assign]
        runs[on] = stepped(rt, CYCLES)
    assert runs[True].storage.store.sim_truth(runs[True].run_id)  # it was recorded ...
    assert len(fed[True]) == len(fed[False]) == CYCLES
    for a, b in zip(fed[True], fed[False], strict=True):  # ... and changed nothing
        assert a.ts == b.ts and a.names == b.names
        for name in a.names:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    fills = [
        [(f.ts, f.market_id, f.side, f.price, f.size) for f in r.storage.store.fills(r.run_id)]
        for r in runs.values()
    ]
    assert fills[0] and fills[0] == fills[1]

    rt = runs[True]
    assert isinstance(rt.source, SimExchange)
    truth = rt.source.world.truth
    for root in (rt.cycle, rt.state, rt.cycle.predictor, rt.view):
        for obj in _reachable(root):
            assert not isinstance(obj, SimExchange | World | Mispricing | TruthSource), (root, obj)
            if isinstance(obj, np.ndarray) and obj.dtype == np.float64:
                assert not np.shares_memory(obj, truth)
                assert obj.shape != truth.shape or not np.array_equal(obj, truth)


def test_only_a_source_that_knows_the_truth_is_asked_for_it(tmp_path: Path) -> None:
    settings = load_settings(None, {"data_dir": str(tmp_path)})
    sim = SimExchange(settings.sim, 0.0)
    assert truth_source(settings, sim) is sim

    class Exchange:  # a real exchange's source: no truth to give
        name = "polymarket"

        def poll(self, now: float) -> list[object]:
            return []

    assert truth_source(settings, Exchange()) is None  # type: ignore[arg-type]
    off = settings.model_copy(update={"ml": settings.ml.model_copy(update={"record_truth": False})})
    assert truth_source(off, sim) is None
