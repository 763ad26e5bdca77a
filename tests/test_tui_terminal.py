"""The console in a real terminal: tmux runs `polyb0t run --source sim`, keys are sent to
it, and the screen is read back as text.

This is the one test that exercises the real driver, escape sequences, terminal size and the
process exit path (the engine stopped, the run summary printed) together.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

START = "2026-03-02T00:00:00Z"
PRICE_ROW = re.compile(r"Will .+\s\d+\.\d\s+\d+\.\d\s")


class Tmux:
    def __init__(self, exited: Path) -> None:
        self.exited = exited  # written when the console's process ends
        self.socket = f"polyb0t-test-{uuid.uuid4().hex[:8]}"  # a private server
        self.session = "console"

    def __call__(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True
        ).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", self.session)

    def wait_for(self, what: str, check: Callable[[str], bool], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if check(text):
                return text
            if self.exited.exists():
                break
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; the screen was:\n{text}")

    def start(self, command: str, env: dict[str, str]) -> None:
        """A detached 100x30 session running `command`, with no user tmux config."""
        subprocess.run(
            [
                "tmux",
                "-L",
                self.socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                self.session,
                "-x",
                "100",
                "-y",
                "30",
                command,
            ],
            check=True,
            env=env,
        )

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def test_console_runs_in_tmux_shows_markets_and_help_and_quits(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install -y tmux); CI installs it")
    cfg = tmp_path / "polybot.toml"
    cfg.write_text(
        f'data_dir = "{(tmp_path / "data").as_posix()}"\n'
        f'[sim]\nstart = "{START}"\nseed = 7\nmarkets = 200\n'
    )
    done = tmp_path / "exit.txt"
    command = (
        f"{shlex.quote(sys.executable)} -m polyb0t_tui run --source sim --config "
        f"{shlex.quote(str(cfg))}; "
        f"echo $? > {shlex.quote(str(done))}; sleep 60"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLYBOT_", "TMUX"))}
    tmux = Tmux(done)
    try:
        tmux.start(command, env)
        screen = tmux.wait_for(
            "the market table", lambda s: "PAPER" in s and len(PRICE_ROW.findall(s)) >= 5
        )
        assert "Market" in screen and "Bid" in screen and "Edge" in screen
        assert max(len(line) for line in screen.splitlines()) > 80  # it uses the whole width
        assert "RUNNING" in screen or "STARTING" in screen

        tmux("send-keys", "-t", tmux.session, "?")
        screen = tmux.wait_for("the help screen", lambda s: "remap in config" in s)
        assert "Quit" in screen and "Kill" in screen

        tmux("send-keys", "-t", tmux.session, "Escape")
        tmux.wait_for("help to close", lambda s: "remap in config" not in s)
        tmux("send-keys", "-t", tmux.session, "K")  # shift+k from a real keyboard
        tmux.wait_for("the kill switch question", lambda s: "Halt trading now?" in s)
        tmux("send-keys", "-t", tmux.session, "n")
        tmux.wait_for("the question to close", lambda s: "Halt trading now?" not in s)
        tmux("send-keys", "-t", tmux.session, "q")
        deadline = time.monotonic() + 15
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert done.exists(), "the console did not exit after q:\n" + tmux.screen()
        assert done.read_text().strip() == "0"
        summary = tmux.screen()  # the app has left the alternate screen: the shell's output
        assert re.search(r"run \w+: \d+ cycles, .*\(signal\)", summary), summary
    finally:
        tmux.close()


def test_a_dropped_terminal_stops_the_engine_and_the_process(tmp_path: Path) -> None:
    """SSH dies: SIGHUP. The engine records its end and the process goes away, instead of
    hanging in a teardown that writes to a terminal that no longer exists."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install -y tmux); CI installs it")
    from engine.config import load_settings
    from polyb0t_tui.runtime import open_storage

    cfg = tmp_path / "polybot.toml"
    cfg.write_text(
        f'data_dir = "{(tmp_path / "data").as_posix()}"\n'
        f'[sim]\nstart = "{START}"\nseed = 7\nmarkets = 100\n'
    )
    pid_file = tmp_path / "pid"
    command = (
        f"echo $$ > {shlex.quote(str(pid_file))}; exec {shlex.quote(sys.executable)} -m "
        f"polyb0t_tui run --source sim --config {shlex.quote(str(cfg))} > /dev/null"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLYBOT_", "TMUX"))}
    tmux = Tmux(tmp_path / "never")
    try:
        tmux.start(command, env)
        tmux.wait_for("the console", lambda s: "PAPER" in s and "RUNNING" in s)
        pid = int(pid_file.read_text())
    finally:
        tmux.close()  # the terminal goes away: SIGHUP
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid), "the console outlived its terminal"
    run = open_storage(load_settings(cfg), create=False).store.latest_run()
    assert run is not None and run.ended_ts is not None and run.status == "signal"


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper that may never come counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    with contextlib.suppress(OSError):
        return "\nState:\tZ" not in status.read_text()
    return True
