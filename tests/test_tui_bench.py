"""The console benchmark drives the product's paths: an attached console receives the daemon's
frames, an in-process one shares the process with stepping engine, and in both its keys move
the cursor and scroll the table. Loaded from its path (`bench/` is not a package)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "tui.py"


@pytest.fixture(scope="module")
def tui() -> ModuleType:
    # Its sibling module first, under the name the script imports it by (`python bench/...`
    # finds it beside the script; bench/ itself is not put on the path, its names are short).
    _load("sim_edge", SCRIPT.with_name("sim_edge.py"))
    return _load("bench_tui", SCRIPT)


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module


def _check_keys(r: dict[str, float]) -> None:
    assert r["presses"] >= 4
    assert r["moved"] == r["presses"]  # every down / pagedown moved the cursor down
    assert r["scrolled"] >= 1  # the pagedown left the first screen
    assert r["frames"] >= 1


def test_the_attached_console_receives_decodes_and_scrolls(tui: ModuleType) -> None:
    r = asyncio.run(tui.run_attached(200, 20.0, 1.5, (120, 30)))
    _check_keys(r)
    assert r["rx_per_s"] > 0  # frames came over the control socket and were decoded


def test_the_in_process_console_runs_beside_the_engine_steps(tui: ModuleType) -> None:
    r = asyncio.run(tui.run_local(200, 20.0, 1.5, (120, 30)))
    _check_keys(r)
    assert r["steps"] >= 1  # the engine stepped while the console was measured
