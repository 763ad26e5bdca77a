"""The daemon serves its control socket; `polyb0t tui --attach` finds it, or says why not."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest

from engine.control.files import read_token, token_path, url_path, write_url
from engine.feed.view import ViewDelta
from polyb0t_tui.cli import main
from polyb0t_tui.remote_link import RemoteLink
from polyb0t_tui.runtime import Runtime
from tests.control_helpers import START, ran_runtime, server_thread


def write_config(path: Path, data_dir: Path, port: int = 0) -> Path:
    path.write_text(
        f'data_dir = "{data_dir.as_posix()}"\n'
        f'[sim]\nstart = "{START}"\nseed = 7\nmarkets = 120\n'
        f"[control]\nport = {port}\n"
    )
    return path


@pytest.mark.slow
def test_the_daemon_serves_consoles_and_still_stops_within_two_seconds(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    cfg = write_config(tmp_path / "c.toml", data_dir)
    code = (
        "import sys\n"
        "from polyb0t_tui.cli import main\n"
        f"rc = main(['run', '--daemon', '--live', '--speed', '1', '--config', {str(cfg)!r}])\n"
        "assert 'textual' not in sys.modules, 'the daemon imported Textual'\n"
        "sys.exit(rc)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYBOT_")}
    log = tmp_path / "daemon.log"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-c", code], stderr=err, env=env)
        try:
            deadline = time.monotonic() + 60
            while not url_path(data_dir).exists():
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            url = url_path(data_dir).read_text().strip()
            seen, elapsed, rc = asyncio.run(
                attach_then_stop(proc, url, read_token(token_path(data_dir)))
            )
        finally:
            if proc.poll() is None:
                proc.kill()
    text = log.read_text()
    assert rc == 0, text
    assert elapsed < 2.0, f"stopping took {elapsed:.2f} s"
    assert seen.status is not None and seen.status.mode == "LIVE DRY-RUN"
    assert seen.n_rows == 120 and len(seen.rows) == 120
    assert "console attached" in text and "engine stopped (signal)" in text
    assert not url_path(data_dir).exists()
    assert read_token(token_path(data_dir)) not in text


async def attach_then_stop(
    proc: subprocess.Popen[bytes], url: str, token: str
) -> tuple[ViewDelta, float, int]:
    link = await RemoteLink.connect(url, token, backoff=(0.2, 1.0))
    try:
        deadline = time.monotonic() + 30
        while state_of(link) != "running":  # the socket opens before the first step
            assert time.monotonic() < deadline, state_of(link)
            await asyncio.sleep(0.05)
        seen = link.pull(0)
        paused = await link.command("pause")
        assert paused.ok, paused.message
        assert state_of(link) == "paused"  # the console has the effect with the result
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rc = await asyncio.to_thread(proc.wait, 10)
        elapsed = time.monotonic() - t0
        deadline = time.monotonic() + 2
        while link.connected and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert not link.connected and link.error is not None
        return seen, elapsed, rc
    finally:
        await link.close()


def state_of(link: RemoteLink) -> str | None:
    status = link.pull(0).status
    return None if status is None else status.state


# --- polyb0t tui --attach ---------------------------------------------------------------------


@pytest.fixture
def rt(tmp_path: Path) -> Runtime:
    return ran_runtime(tmp_path / "data")


class FakeApp:
    """Stands in for the Textual app: the command's job ends at handing it a live link."""

    def __init__(self, settings: Any, link: RemoteLink) -> None:
        self.link = link
        self.seen: ViewDelta | None = None
        self.return_code = 0

    async def run_async(self) -> None:
        self.seen = self.link.pull(0)


def fake_app_module(monkeypatch: pytest.MonkeyPatch) -> list[FakeApp]:
    made: list[FakeApp] = []

    def make_app(settings: Any, link: RemoteLink, **options: Any) -> FakeApp:
        assert options["mode"] == "attached"
        made.append(FakeApp(settings, link))
        return made[-1]

    module = types.ModuleType("polyb0t_tui.app")
    module.make_app = make_app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "polyb0t_tui.app", module)
    return made


def test_tui_attach_finds_the_daemon_from_the_data_dir(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = fake_app_module(monkeypatch)
    cfg = write_config(tmp_path / "c.toml", rt.settings.data_dir)
    with server_thread(rt):
        assert main(["tui", "--attach", "--config", str(cfg)]) == 0
    (app,) = made
    assert app.seen is not None and app.seen.n_rows == rt.state.n
    assert not app.link.connected  # closed when the app ended


def test_tui_says_when_no_daemon_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path / "c.toml", tmp_path / "data")
    assert main(["tui", "--attach", "--config", str(cfg)]) == 1
    assert "no daemon is running" in capsys.readouterr().err
    # a daemon that died and left its URL behind
    (tmp_path / "data").mkdir()
    write_url(url_path(tmp_path / "data"), "ws://127.0.0.1:9")
    token_path(tmp_path / "data").write_text("t" * 43)
    token_path(tmp_path / "data").chmod(0o600)
    assert main(["tui", "--attach", "--config", str(cfg)]) == 1
    assert "no daemon answers at ws://127.0.0.1:9" in capsys.readouterr().err


def test_tui_refuses_a_wrong_or_unsafe_token_and_remote_urls(
    rt: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path / "c.toml", rt.settings.data_dir)
    wrong = tmp_path / "wrong.token"
    wrong.write_text("w" * 43)
    wrong.chmod(0o600)
    with server_thread(rt):
        assert main(["tui", "--attach", "--token-file", str(wrong), "--config", str(cfg)]) == 1
        err = capsys.readouterr().err
        assert "refused this console" in err and "wrong token" in err
        wrong.chmod(0o644)
        assert main(["tui", "--attach", "--token-file", str(wrong), "--config", str(cfg)]) == 1
        assert "readable by other users" in capsys.readouterr().err
    assert main(["tui", "--attach", "ws://10.1.2.3:8765", "--config", str(cfg)]) == 1
    assert "not a loopback address" in capsys.readouterr().err
    assert main(["tui", "--attach", "http://127.0.0.1:8765", "--config", str(cfg)]) == 1
    assert "expected ws://HOST:PORT" in capsys.readouterr().err
    assert main(["tui", "--config", str(cfg)]) == 2
    assert "needs --attach" in capsys.readouterr().err


def test_a_daemon_whose_control_port_is_taken_stops_with_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cfg = write_config(tmp_path / "c.toml", tmp_path / "data", port=port)
        rc = main(["run", "--daemon", "--cycles", "1", "--speed", "max", "--config", str(cfg)])
    assert rc == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
