"""What `report` says is what happened: every run of the day, every rejection, the depth the
engine measures."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from engine.config import load_settings
from engine.decision.cycle import CycleOutcome
from polyb0t_tui.cli import main
from polyb0t_tui.runtime import build_runtime, open_storage
from tests.engine_steps import stepped
from tests.sim_edge import EDGE_SIM, EDGE_SIM_TOML, EDGE_STRATEGY, EDGE_STRATEGY_TOML

START = "2026-03-02T00:00:00Z"


def test_report_today_covers_every_run_of_the_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    # no sim.start: the sim starts now, so both runs' records fall in today
    # with an edge the baseline knows (tests.sim_edge), so that both runs trade
    lines = [f'data_dir = "{(tmp_path / "data").as_posix()}"', "[sim]", "markets = 150"]
    cfg.write_text("\n".join([*lines, *EDGE_SIM_TOML, *EDGE_STRATEGY_TOML]) + "\n")
    for seed in ("3", "4"):
        args = ["run", "--daemon", "--cycles", "40", "--speed", "max", "--seed", seed]
        assert main([*args, "--config", str(cfg)]) == 0
    capsys.readouterr()
    store = open_storage(load_settings(cfg), create=False).store
    with store._db.read() as conn:
        runs = [r[0] for r in conn.execute(text("SELECT run_id FROM runs ORDER BY seq"))]
    assert len(runs) == 2
    each = [store.report(run_id=r) for r in runs]
    assert all(r.fills > 0 for r in each), "both seeded runs should trade"

    assert main(["report", "--today", "--json", "--config", str(cfg)]) == 0
    today = json.loads(capsys.readouterr().out)
    assert today["runs"] == runs
    assert today["fills"] == sum(r.fills for r in each)
    assert today["fees"] == pytest.approx(sum(r.fees for r in each))
    total = Counter[str]()
    for r in each:
        total.update(r.rejections_by_reason)
    assert today["rejections_by_reason"] == dict(total)
    assert today["pnl"] == pytest.approx(sum(r.pnl or 0.0 for r in each))
    assert "2 runs" in today["scope"]


def test_rejections_are_counted_even_when_their_signal_rows_are_not_stored(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        None,
        {
            "data_dir": str(tmp_path / "data"),
            "sim": {"seed": 7, "start": START, "markets": 150, **EDGE_SIM},
            "strategy": {"repeat_signal_seconds": 3600.0, **EDGE_STRATEGY},
        },
    )
    rt = build_runtime(settings, speed=None)
    seen: Counter[str] = Counter()
    run_cycle = rt.cycle.run

    def counted(now: float) -> CycleOutcome:
        out = run_cycle(now)
        for s in out.signals:
            if s.decision == "rejected":
                seen[(s.reason or "").split(":", 1)[0]] += 1
        return out

    rt.cycle.run = counted  # type: ignore[method-assign]
    asyncio.run(rt.engine.run(asyncio.Event(), cycles=60))
    report = rt.storage.store.report(run_id=rt.run_id)
    stored = sum(
        1 for s in rt.storage.store.signals(rt.run_id, 100_000) if s.decision == "rejected"
    )
    assert seen and report.rejections_by_reason == dict(seen)
    assert stored < sum(seen.values()), "repeats were not stored as rows, yet counted"


def test_stored_depth_is_the_depth_the_features_measure(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        {
            "data_dir": str(tmp_path / "data"),
            "sim": {"seed": 7, "start": START, "markets": 60, "book_levels": 8},
            "features": {"depth_levels": 5},
        },
    )
    rt = stepped(build_runtime(settings, speed=None), cycles=1)
    st = rt.state
    with rt.storage.db.read() as conn:
        rows = conn.execute(text("SELECT market_id, bid_depth, ask_depth FROM snapshots")).all()
    assert rows
    for market_id, bid_depth, ask_depth in rows:
        r = st.row(market_id)
        assert r is not None
        assert bid_depth == pytest.approx(float(np.sum(st.bid_sz[r, :5])))
        assert ask_depth == pytest.approx(float(np.sum(st.ask_sz[r, :5])))
