"""End to end: the seeded sim daemon trades on paper, reproducibly, and stops on a signal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from polyb0t_tui.cli import main
from polyb0t_tui.cli.run import HARNESS_SWITCH_SECONDS
from tests.sim_edge import EDGE_SIM_TOML, EDGE_STRATEGY_TOML

pytestmark = pytest.mark.slow

START = "2026-03-02T00:00:00Z"


def write_config(path: Path, data_dir: Path, db_url: str | None = None, **extra: str) -> Path:
    lines = [f'data_dir = "{data_dir.as_posix()}"']
    if db_url:
        lines.append(f'database_url = "{db_url}"')
    lines += [f"{k} = {v}" for k, v in extra.items()]
    lines += ["[sim]", f'start = "{START}"', "seed = 7", "markets = 300"]
    lines += [*EDGE_SIM_TOML, *EDGE_STRATEGY_TOML]  # an edge the baseline knows: it trades
    lines += ["[control]", "port = 0"]  # any free port: tests must not collide on 8765
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)  # it may hold the database password: a file others can read is refused
    return path


def run_cli(*args: str) -> None:
    assert main(list(args)) == 0


def report_json(cfg: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    run_cli("report", "--json", "--config", str(cfg))
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def fills_of(cfg: Path) -> list[tuple[object, ...]]:
    from engine.config import load_settings
    from polyb0t_tui.runtime import open_storage

    store = open_storage(load_settings(cfg), create=False).store
    run = store.latest_run()
    assert run is not None
    return [
        (f.ts, f.market_id, f.outcome, f.side, round(f.price, 9), round(f.size, 6), round(f.fee, 9))
        for f in store.fills(run.run_id)
    ]


def test_seeded_sim_daemon_trades_on_paper_and_reports(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """On SQLite, and on PostgreSQL when POLYBOT_TEST_PG_URL is set (CI sets it)."""
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data", db_url=db_url)
    run_cli("run", "--daemon", "--cycles", "360", "--speed", "max", "--config", str(cfg))
    assert (tmp_path / "data").is_dir()
    rep = report_json(cfg, capsys)
    assert rep["signals"] > 0  # type: ignore[operator]
    assert rep["fills"] > 0  # type: ignore[operator]
    assert rep["rejections_by_reason"], "signals were rejected for no recorded reason"
    capsys.readouterr()
    run_cli("status", "--json", "--config", str(cfg))
    status = json.loads(capsys.readouterr().out)
    assert status["engine"]["state"] == "stopped"
    assert status["engine"]["cycle"] == 360


def test_same_seed_gives_identical_fills(tmp_path: Path) -> None:
    a = write_config(tmp_path / "a.toml", tmp_path / "a")
    b = write_config(tmp_path / "b.toml", tmp_path / "b")
    for cfg in (a, b):
        run_cli("run", "--daemon", "--cycles", "240", "--speed", "max", "--config", str(cfg))
    fa, fb = fills_of(a), fills_of(b)
    assert fa, "the seeded run should trade"
    assert fa == fb


def test_the_headless_harness_gives_the_daemons_fills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--speed max` runs the fast harness (steps on the event loop's own thread, no hop to a
    worker); a paced daemon (`--speed 20000`) steps in a worker thread. Same seed, same
    fills, and each ran the way it says."""
    import threading

    from engine.run.runner import Engine

    threads: dict[str, set[bool]] = {}
    switches: set[float] = set()
    step = Engine.step
    switch = sys.getswitchinterval()

    def spied(self: Engine, t: float, do_cycle: bool) -> object:
        on_main = threading.current_thread() is threading.main_thread()
        threads.setdefault(self.run_id, set()).add(on_main)
        switches.add(sys.getswitchinterval())
        return step(self, t, do_cycle)

    monkeypatch.setattr(Engine, "step", spied)
    fast = write_config(tmp_path / "fast.toml", tmp_path / "fast")
    paced = write_config(tmp_path / "paced.toml", tmp_path / "paced")
    run_cli("run", "--daemon", "--cycles", "240", "--speed", "max", "--config", str(fast))
    run_cli("run", "--daemon", "--cycles", "240", "--speed", "20000", "--config", str(paced))
    f_fast, f_paced = fills_of(fast), fills_of(paced)
    assert f_fast, "the seeded run should trade"
    assert f_fast == f_paced
    assert sorted(threads.values(), key=sorted) == [{False}, {True}]
    # The harness shortens the GIL switch interval for its run only (the writer thread gets
    # the GIL back sooner); the paced daemon keeps Python's, and the run leaves it as it was.
    assert switches == {HARNESS_SWITCH_SECONDS, switch}
    assert sys.getswitchinterval() == switch


def test_different_seed_gives_different_fills(tmp_path: Path) -> None:
    a = write_config(tmp_path / "a.toml", tmp_path / "a")
    run_cli("run", "--daemon", "--cycles", "240", "--speed", "max", "--config", str(a))
    b = write_config(tmp_path / "b.toml", tmp_path / "b")
    run_cli(
        "run", "--daemon", "--cycles", "240", "--speed", "max", "--seed", "8", "--config", str(b)
    )
    assert fills_of(a) != fills_of(b)


def test_daemon_stops_cleanly_on_sigterm_within_two_seconds_without_textual(
    tmp_path: Path,
) -> None:
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data")
    code = (
        "import sys\n"
        "from polyb0t_tui.cli import main\n"
        f"rc = main(['run', '--daemon', '--speed', '1', '--config', {str(cfg)!r}])\n"
        "assert 'textual' not in sys.modules, 'the daemon imported Textual'\n"
        "sys.exit(rc)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYBOT_")}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, env=env
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    seen = ""
    while "cycle 1 " not in seen and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    assert "cycle 1 " in seen, seen
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    rest = proc.stderr.read()
    rc = proc.wait(timeout=10)
    elapsed = time.monotonic() - t0
    assert rc == 0, rest
    assert elapsed < 2.0
    assert "engine stopped (signal)" in rest
