"""`polyb0t run` without --daemon opens the console, so it needs a terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_run_without_a_terminal_says_use_daemon_and_never_loads_textual(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'data_dir = "{(tmp_path / "data").as_posix()}"\n')
    code = (
        "import sys\n"
        "from polyb0t_tui.cli import main\n"
        f"rc = main(['run', '--source', 'sim', '--config', {str(cfg)!r}])\n"
        "assert 'textual' not in sys.modules, 'textual was imported before the terminal check'\n"
        "sys.exit(rc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2, out.stderr
    assert "needs a terminal" in out.stderr and "--daemon" in out.stderr
