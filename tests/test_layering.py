"""Harlequin's rule: the engine and the ML never load the UI; the daemon never imports Textual."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(out.split())


def test_engine_and_ml_do_not_import_textual_or_torch() -> None:
    mods = _modules_after(
        "import engine.run.runner, engine.decision.cycle, engine.sources.sim, engine.storage, ml"
    )
    assert "textual" not in mods
    assert "torch" not in mods


def test_cli_and_runtime_do_not_import_textual() -> None:
    mods = _modules_after("import polyb0t_tui.cli, polyb0t_tui.runtime")
    assert "textual" not in mods


def test_the_cli_loads_the_clob_client_only_for_real_orders() -> None:
    mods = _modules_after("import polyb0t_tui.cli, polyb0t_tui.runtime")
    assert "py_clob_client_v2" not in mods
