"""The control socket as a raw client sees it: authentication, protocol, bad input, slow peers."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import socket
import stat
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from engine.config import ControlSettings
from engine.control.files import read_token, token_path, url_path
from engine.control.protocol import quiet_socket_logger
from engine.control.server import ControlServer, ControlStartError, check_bind
from engine.feed.codec import decode
from engine.feed.view import MarketRow, ViewDelta
from polyb0t_tui.remote_link import RemoteLink
from polyb0t_tui.runtime import Runtime, build_runtime
from tests.control_helpers import control_settings, ran_runtime, server_for
from tests.engine_steps import stepped_async

WRONG = "w" * 43  # a token the server must refuse, and must never write to a log


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    return ran_runtime(tmp_path_factory.mktemp("control") / "data")


@asynccontextmanager
async def raw_client(server: ControlServer, token: str | None) -> AsyncIterator[ClientConnection]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    assert server.url is not None
    async with connect(
        server.url,
        additional_headers=headers,
        max_size=None,
        compression=None,
        proxy=None,
        logger=quiet_socket_logger("tests.raw"),  # websockets logs headers at DEBUG
    ) as ws:
        yield ws


async def next_of(ws: ClientConnection, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next message of `kind`, skipping view deltas pushed in between."""
    async with asyncio.timeout(timeout):
        while True:
            msg: dict[str, Any] = json.loads(await ws.recv())
            if msg["type"] == kind:
                return msg


async def test_the_token_file_is_private_and_the_url_file_is_published(rt: Runtime) -> None:
    data_dir = rt.settings.data_dir
    async with server_for(rt) as server:
        assert server.url is not None and server.url.startswith("ws://127.0.0.1:")
        assert url_path(data_dir).read_text().strip() == server.url
        assert stat.S_IMODE(os.stat(token_path(data_dir)).st_mode) == 0o600
        assert len(read_token(token_path(data_dir))) >= 43
    assert not url_path(data_dir).exists(), "a stopped daemon must not leave its URL behind"
    assert token_path(data_dir).exists()


async def test_missing_or_wrong_tokens_are_refused_clearly_and_never_logged(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await refuse_and_accept(rt)
    token = read_token(token_path(rt.settings.data_dir))
    logged = caplog.text
    assert "wrong token" in logged and "no token" in logged
    assert token not in logged and WRONG not in logged


async def refuse_and_accept(rt: Runtime) -> None:
    async with server_for(rt) as server:
        token = read_token(token_path(rt.settings.data_dir))
        with pytest.raises(InvalidStatus) as missing:
            async with raw_client(server, None):
                pass
        assert missing.value.response.status_code == 401
        assert b"no token" in missing.value.response.body
        with pytest.raises(InvalidStatus) as refused:
            async with raw_client(server, WRONG):
                pass
        assert refused.value.response.status_code == 403
        assert b"wrong token" in refused.value.response.body
        async with raw_client(server, token) as ws:
            assert (await next_of(ws, "welcome"))["protocol"] == 1
        assert server.url is not None
        link = await RemoteLink.connect(server.url, token)
        await link.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "example.com"])
def test_binding_beyond_loopback_needs_allow_remote(host: str) -> None:
    with pytest.raises(ControlStartError, match="allow_remote"):
        check_bind(ControlSettings(host=host))
    check_bind(ControlSettings(host=host, allow_remote=True))
    check_bind(ControlSettings(host="127.0.0.1"))


async def test_a_server_configured_beyond_loopback_does_not_start(rt: Runtime) -> None:
    server = ControlServer(rt.link, ControlSettings(host="0.0.0.0", port=0), rt.settings.data_dir)
    with pytest.raises(ControlStartError, match="not a loopback address"):
        await server.start()


async def test_a_port_in_use_is_a_clear_error(rt: Runtime) -> None:
    async with server_for(rt) as first:
        assert first.url is not None
        port = int(first.url.rsplit(":", 1)[1])
        second = ControlServer(rt.link, ControlSettings(port=port), rt.settings.data_dir)
        with pytest.raises(ControlStartError, match=r"cannot listen.*another daemon"):
            await second.start()


async def test_the_first_push_is_full_and_later_ones_only_carry_changes(rt: Runtime) -> None:
    async with server_for(rt, push_interval=0.05) as server:
        token = read_token(token_path(rt.settings.data_dir))
        async with raw_client(server, token) as ws:
            welcome = await next_of(ws, "welcome")
            assert welcome["push_interval"] == 0.05
            first = decode(ViewDelta, (await next_of(ws, "delta"))["delta"])
            assert first.full and len(first.rows) == first.n_rows == rt.state.n
            await asyncio.to_thread(rt.engine.step, rt.clock.now() + 10.0, True)
            later = decode(ViewDelta, (await next_of(ws, "delta"))["delta"])
            assert not later.full and 0 < len(later.rows) < rt.state.n
            assert later.seq > first.seq


async def test_bad_frames_get_an_error_and_the_connection_stays_usable(rt: Runtime) -> None:
    market_id = rt.state.markets[0].market_id
    async with server_for(rt) as server:
        token = read_token(token_path(rt.settings.data_dir))
        async with raw_client(server, token) as ws:
            cases: list[tuple[str | bytes, Any, str]] = [
                ("not json", None, "not JSON"),
                ("[1, 2]", None, "JSON object"),
                ('{"type": "command", "name": "pause"}', None, '"id"'),
                ('{"type": "launch", "id": 1}', 1, "unknown request type"),
                ('{"type": "command", "id": 2}', 2, '"name"'),
                ('{"type": "command", "id": 3, "name": "pause", "args": [1]}', 3, '"args"'),
                ('{"type": "detail", "id": "d"}', "d", '"market_id"'),
                (b"\x00\x01", None, "text frames"),
            ]
            for frame, request_id, says in cases:
                await ws.send(frame)
                error = await next_of(ws, "error")
                assert error["id"] == request_id and says in error["message"], (frame, error)
            await ws.send(json.dumps({"type": "detail", "id": 9, "market_id": market_id}))
            answer = await next_of(ws, "detail")
            assert answer["id"] == 9 and answer["detail"]["market_id"] == market_id
            await ws.send(json.dumps({"type": "command", "id": 10, "name": "approve"}))
            result = await next_of(ws, "result")
            assert (
                result["id"] == 10 and not result["ok"] and "missing argument" in result["message"]
            )
        assert server.attached == 0 or server.attached == 1  # this console is leaving


def big_delta(n: int, question_chars: int, version: float) -> ViewDelta:
    q = "q" * question_chars
    rows = tuple(
        MarketRow(i, f"m{i}", q, "c", version, 0.5, 0.5, 0.0, 0.0, 1.0, 0.0, 0.5, 0.0, True, True)
        for i in range(n)
    )
    return ViewDelta(0, n, rows, None, (), (), None, (), ())


async def stalled_peer(url: str, token: str) -> asyncio.StreamWriter:
    """A console that completes the handshake and then never reads another byte."""
    host, port = url.removeprefix("ws://").rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    return writer


@pytest.fixture
def paper_rt(tmp_path: Path) -> Runtime:
    return ran_runtime(tmp_path / "data", live=False, cycles=1)


async def test_a_console_that_stops_reading_is_cut_off_without_stalling_others(
    paper_rt: Runtime,
) -> None:
    rt = paper_rt
    store = rt.view.store
    store.apply(big_delta(4000, 2000, 0.1))  # a full view of ~8.5 MB: more than buffers hold
    lags: list[float] = []

    async def measure_loop_lag() -> None:
        while True:
            t0 = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append(time.monotonic() - t0 - 0.01)

    ticker = asyncio.create_task(measure_loop_lag())
    try:
        async with server_for(rt, push_interval=0.05, send_timeout=0.5) as server:
            assert server.url is not None
            token = read_token(token_path(rt.settings.data_dir))
            stalled = await stalled_peer(server.url, token)
            link = await RemoteLink.connect(server.url, token)
            try:
                assert server.attached == 2
                async with asyncio.timeout(5):
                    while server.attached > 1:
                        await asyncio.sleep(0.05)
                # the attentive console still follows the engine
                seen = link.pull(0).seq
                store.add_log(time.time(), "INFO", "still here")
                async with asyncio.timeout(5):
                    while not any(x.message == "still here" for x in link.pull(seen).log):
                        await asyncio.sleep(0.02)
                assert link.connected
            finally:
                await link.close()
                stalled.close()
    finally:
        ticker.cancel()
    assert max(lags) < 0.5, f"the engine's loop stalled for {max(lags):.2f} s"


async def test_with_no_console_attached_the_daemon_builds_no_view_and_catches_up_on_attach(
    tmp_path: Path,
) -> None:
    rt = build_runtime(control_settings(tmp_path / "data"), live=True, speed=None)
    server = server_for(rt)
    assert not rt.view.watched()
    published: list[float] = []
    panes = rt.view._publish_panes

    def counted(t: float) -> None:
        published.append(t)
        panes(t)

    rt.view._publish_panes = counted  # type: ignore[method-assign]
    await stepped_async(rt, cycles=3)
    assert published == []  # three steps, no console: no rows or panes built
    assert rt.link.pull(0).rows == ()
    async with server:
        token = read_token(token_path(rt.settings.data_dir))
        async with raw_client(server, token) as ws:
            await next_of(ws, "welcome")
            first = decode(ViewDelta, (await next_of(ws, "delta"))["delta"])
            assert rt.view.watched() and len(published) == 1  # caught up on attach
            assert first.full and len(first.rows) == rt.state.n
            assert first.status is not None and first.status.cycle == 3
