"""Consoles attached over the control socket: the same view, the same commands, reconnects."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from engine.config import ControlSettings
from engine.control.files import read_token, token_path
from engine.control.server import ControlServer
from engine.feed.view import IntentView
from polyb0t_tui.remote_link import AttachError, RemoteLink, TokenRefused
from polyb0t_tui.runtime import Runtime, build_runtime
from tests.control_helpers import canon, control_settings, ran_runtime, server_for


async def until(check: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what or check}"
        await asyncio.sleep(0.02)


def intents_of(link: RemoteLink) -> dict[str, IntentView]:
    return {i.intent_id: i for i in link.pull(0).intents}


def left_pending(link: RemoteLink, intent_id: str) -> bool:
    return intents_of(link)[intent_id].state != "PENDING"


def token_of(rt: Runtime) -> str:
    return read_token(token_path(rt.settings.data_dir))


@pytest.fixture
def rt(tmp_path: Path) -> Runtime:
    return ran_runtime(tmp_path / "data")


@pytest.fixture
def running_rt(tmp_path: Path) -> Runtime:
    """Built, not run: the test runs it on its own loop, beside the server."""
    return build_runtime(control_settings(tmp_path / "data"), live=True, speed=30.0)


async def test_two_consoles_see_the_same_intents_and_an_approval_leaves_both_queues(
    rt: Runtime,
) -> None:
    async with server_for(rt) as server:
        assert server.url is not None
        a = await RemoteLink.connect(server.url, token_of(rt))
        b = await RemoteLink.connect(server.url, token_of(rt))
        try:
            assert a.pull(0).intents == b.pull(0).intents == rt.link.pull(0).intents
            pending = [i for i in a.pull(0).intents if i.state == "PENDING"]
            assert pending, "the seeded dry run should propose intents"
            target = pending[0].intent_id
            result = await a.command("approve", intent_id=target)
            assert result.ok, result.message
            # the approving console sees it as soon as it has the result
            assert intents_of(a)[target].state == "APPROVED"
            await until(lambda: intents_of(b)[target].state == "APPROVED", what="b to follow")
            again = await b.command("approve", intent_id=target)
            assert not again.ok and "not PENDING" in again.message
            rejected = await b.command("reject", intent_id=pending[1].intent_id, reason="no")
            assert rejected.ok
            await until(lambda: intents_of(a)[pending[1].intent_id].state == "REJECTED")
        finally:
            await a.close()
            await b.close()


async def test_two_consoles_on_a_running_engine_agree_on_an_approval(running_rt: Runtime) -> None:
    rt = running_rt
    stop = asyncio.Event()
    engine = asyncio.create_task(rt.engine.run(stop))
    try:
        async with server_for(rt, push_interval=0.05) as server:
            assert server.url is not None
            a = await RemoteLink.connect(server.url, token_of(rt))
            b = await RemoteLink.connect(server.url, token_of(rt))
            try:

                def pending_in_both() -> list[str]:
                    ids = {i for i, v in intents_of(a).items() if v.state == "PENDING"}
                    return [
                        i for i, v in intents_of(b).items() if v.state == "PENDING" and i in ids
                    ]

                await until(lambda: bool(pending_in_both()), timeout=15, what="intents")
                target = pending_in_both()[0]
                result = await a.command("approve", intent_id=target)
                assert result.ok, result.message
                for link in (a, b):
                    await until(partial(left_pending, link, target))
                    assert intents_of(link)[target].state in ("APPROVED", "EXECUTED_DRYRUN")
                status = b.pull(0).status
                assert status is not None and status.mode == "LIVE DRY-RUN"
                assert status.state == "running"
            finally:
                await a.close()
                await b.close()
    finally:
        stop.set()
        await engine


async def test_commands_and_market_detail_round_trip(rt: Runtime) -> None:
    async with server_for(rt) as server:
        assert server.url is not None
        link = await RemoteLink.connect(server.url, token_of(rt))
        try:
            market_id = rt.state.markets[3].market_id
            remote = await link.detail(market_id)
            local = await rt.link.detail(market_id)
            assert remote is not None and canon(remote) == canon(local)
            assert await link.detail("0xnope") is None
            pending = [i for i in link.pull(0).intents if i.state == "PENDING"]
            check = await link.command("recheck", intent_id=pending[0].intent_id)
            assert check.message and isinstance(check.data["edge"], float)
            bad = await link.command("approve")
            assert not bad.ok and "missing argument" in bad.message
            unknown = await link.command("launch")
            assert not unknown.ok and "unknown command" in unknown.message
            rows = link.pull(0).rows
            assert canon(rows) == canon(rt.link.pull(0).rows)
        finally:
            await link.close()


async def test_a_wrong_token_or_no_daemon_is_a_clear_error(rt: Runtime) -> None:
    async with server_for(rt) as server:
        assert server.url is not None
        with pytest.raises(TokenRefused, match="wrong token"):
            await RemoteLink.connect(server.url, "not-the-token")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(AttachError, match=r"no daemon answers .* \(connection refused\)"):
        await RemoteLink.connect(f"ws://127.0.0.1:{port}", token_of(rt))


@pytest.fixture
def restarted(tmp_path: Path) -> tuple[Runtime, Runtime]:
    """The same data dir run twice: a daemon and the one that replaces it."""
    return ran_runtime(tmp_path / "data"), ran_runtime(tmp_path / "data")


def port_of(server: ControlServer) -> int:
    assert server.url is not None
    return int(server.url.rsplit(":", 1)[1])


async def test_the_link_reconnects_when_the_daemon_restarts(
    restarted: tuple[Runtime, Runtime],
) -> None:
    first, second = restarted
    old = server_for(first)
    await old.start()
    port = port_of(old)
    link = await RemoteLink.connect(f"ws://127.0.0.1:{port}", token_of(first), backoff=(0.05, 0.2))
    try:
        assert link.connected
        await old.close()
        await until(lambda: not link.connected, what="the link to notice")
        status = link.pull(0).status
        assert status is not None and status.state == "disconnected"
        offline = await link.command("pause")
        assert not offline.ok and "not connected" in offline.message
        new = ControlServer(second.link, ControlSettings(port=port), second.settings.data_dir)
        async with new:
            await until(lambda: link.connected, what="the reconnect")
            seen = link.pull(0)
            assert any("reconnected" in line.message for line in seen.log)
            assert seen.status is not None and seen.status.state != "disconnected"
            # the new daemon numbers its log from scratch; its lines still show
            second.view.store.add_log(time.time(), "INFO", "after the restart")
            await until(
                lambda: any(x.message == "after the restart" for x in link.pull(seen.seq).log)
            )
            answered = await link.command("pause")  # reaches the new engine
            assert answered.ok and answered.message == "paused"
            assert second.control.state.value == "paused" and first.control.state.value != "paused"
    finally:
        await link.close()


async def test_a_daemon_with_a_new_token_ends_the_retries_with_a_clear_error(
    restarted: tuple[Runtime, Runtime],
) -> None:
    first, second = restarted
    old = server_for(first)
    await old.start()
    port = port_of(old)
    link = await RemoteLink.connect(f"ws://127.0.0.1:{port}", token_of(first), backoff=(0.05, 0.2))
    try:
        await old.close()
        token_path(second.settings.data_dir).chmod(0o644)  # unsafe: the daemon replaces it
        new = ControlServer(second.link, ControlSettings(port=port), second.settings.data_dir)
        async with new:
            await until(lambda: link.error is not None and "refused" in link.error)
            assert not link.connected
            assert any("not retrying" in line.message for line in link.pull(0).log)
    finally:
        await link.close()
