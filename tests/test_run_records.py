"""Runs on record as they really went: one engine per data dir, nothing recorded by a start
that failed, a killed run marked crashed by the next start, runs ordered as they started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.config import load_settings
from engine.control.files import token_path, url_path
from engine.storage import Database, Store
from engine.storage.data_dir_lock import DataDirBusy, DataDirLock
from polyb0t_tui.cli import main
from polyb0t_tui.runtime import open_storage
from tests.control_helpers import START

pytestmark = pytest.mark.slow


def _config(tmp_path: Path, data_dir: Path, port: int = 0, markets: int = 60) -> Path:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'data_dir = "{data_dir.as_posix()}"\nloop_interval_seconds = 1.0\n'
        f'[sim]\nstart = "{START}"\nseed = 7\nmarkets = {markets}\nstep_seconds = 1.0\n'
        f"[control]\nport = {port}\n"
    )
    return cfg


def _daemon(cfg: Path, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYBOT_")}
    cmd = [sys.executable, "-m", "polyb0t_tui", "run", "--daemon", "--config", str(cfg), *extra]
    with log.open("w") as err:
        return subprocess.Popen(cmd, stderr=err, env=env)


def _wait(what: str, check: object, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while not check():  # type: ignore[operator]
        assert proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {log.read_text()}"
        time.sleep(0.05)


def _store(cfg: Path) -> Store:
    return open_storage(load_settings(cfg), create=False).store


def test_the_lock_is_exclusive_and_says_who_holds_it(tmp_path: Path) -> None:
    with DataDirLock(tmp_path / "d") as first:
        assert first.held and (tmp_path / "d").stat().st_mode & 0o077 == 0
        with pytest.raises(DataDirBusy, match=f"pid {os.getpid()}"):
            DataDirLock(tmp_path / "d").acquire()
    with DataDirLock(tmp_path / "d") as again:  # released: free for the next engine
        assert again.held


def test_a_second_engine_on_the_same_data_dir_is_refused_and_the_first_keeps_its_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    cfg = _config(tmp_path, data)
    log = tmp_path / "first.log"
    first = _daemon(cfg, log, "--live", "--speed", "1")
    try:
        _wait("the first daemon's socket", url_path(data).exists, first, log)
        url = url_path(data).read_text()
        token = token_path(data).read_text()
        runs_before = _store(cfg).latest_run()
        assert main(["run", "--daemon", "--live", "--config", str(cfg)]) == 2
        err = capsys.readouterr().err
        assert f"another engine is running on data dir {data}" in err
        assert f"pid {first.pid}" in err
        # the first daemon is untouched: its URL and token stay, no second run was recorded
        assert url_path(data).read_text() == url and token_path(data).read_text() == token
        assert _store(cfg).latest_run() == runs_before
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=20)
    assert first.returncode == 0, log.read_text()


def test_a_start_that_fails_on_a_busy_port_writes_no_token_and_records_no_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        data = tmp_path / "data"
        cfg = _config(tmp_path, data, port=busy.getsockname()[1])
        assert main(["run", "--daemon", "--config", str(cfg)]) == 2
    finally:
        busy.close()
    assert "cannot listen on" in capsys.readouterr().err
    assert not token_path(data).exists() and not url_path(data).exists()
    assert _store(cfg).latest_run() is None


def test_a_killed_daemons_run_is_marked_crashed_when_next_seen(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cfg = _config(tmp_path, data)
    log = tmp_path / "killed.log"
    proc = _daemon(cfg, log, "--speed", "20")

    def stepped() -> bool:
        try:
            run = _store(cfg).latest_run()
        except Exception:  # not created yet
            return False
        status = _store(cfg).engine_state(run.run_id) if run is not None else None
        return status is not None and status.cycle >= 3

    try:
        _wait("a few cycles", stepped, proc, log)
        proc.kill()  # kill -9: nothing of the run's end runs
        proc.wait(timeout=10)
        store = _store(cfg)
        killed = store.latest_run()
        assert killed is not None and killed.status == "running" and killed.pid == proc.pid
        last_seen = store.engine_state(killed.run_id)
        assert last_seen is not None
    finally:
        if proc.poll() is None:
            proc.kill()
    assert main(["run", "--daemon", "--cycles", "1", "--speed", "max", "--config", str(cfg)]) == 0
    store = _store(cfg)
    crashed = store.run(killed.run_id)
    assert crashed is not None and crashed.status == "crashed"
    assert crashed.ended_ts is not None and crashed.ended_ts >= last_seen.updated_ts
    status = store.engine_state(killed.run_id)
    assert status is not None and status.state == "stopped" and "crashed" in (status.reason or "")
    latest = store.latest_run()
    assert latest is not None and latest.run_id != killed.run_id
    assert latest.seq is not None and killed.seq is not None and latest.seq > killed.seq


def test_runs_started_in_the_same_minute_are_ordered_by_their_start(tmp_path: Path) -> None:
    """Sim runs start at the same engine time; `status` and `report` must pick the last one
    started, whatever their ids."""
    db = Database(f"sqlite:///{(tmp_path / 'r.db').as_posix()}")
    db.init()
    store = Store(db)
    for run_id in ("zz-first", "aa-second", "mm-third"):
        store.start_run(run_id, 1_772_409_600.0, "paper", "sim")
    latest = store.latest_run()
    assert latest is not None and latest.run_id == "mm-third"
    assert store.report().run_id == "mm-third"
