"""The paper benchmark measures the product's path: its orders reach the database and its
bankroll binds. Loaded from its path (`bench/` is a folder of scripts, not a package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "paper.py"


@pytest.fixture(scope="module")
def paper() -> ModuleType:
    # Its sibling module first, under the name the script imports it by (`python bench/...`
    # finds it beside the script; bench/ itself is not put on the path, its names are short).
    _load("sim_edge", SCRIPT.with_name("sim_edge.py"))
    return _load("bench_paper", SCRIPT)


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module


def test_a_short_run_stores_what_the_engine_reported_and_the_bankroll_binds(
    paper: ModuleType,
) -> None:
    tally, figures = paper.bench(
        markets=300, cycles=60, bankroll=1_000.0, position_pct=0.02, seed=1
    )
    assert tally.all_orders > 0 and tally.all_fills > 0
    assert figures["db_orders"] == tally.all_orders
    assert figures["db_fills"] == tally.all_fills + tally.settlements
    assert tally.bound_at is not None  # a cash or total-exposure cap denied an order
    assert sum(tally.denied[r] for r in ("cash_available", "max_total_exposure")) > 0
    assert len(tally.step_ms) >= 60  # every measured cycle step was timed
