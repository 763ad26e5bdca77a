"""The daemon's control socket: consoles attach, follow the engine's view and send commands.

It runs on the engine's asyncio loop and never blocks it: pulling and encoding a delta runs in
a worker thread, and commands and detail queries go through the console link, which queues
what touches engine state to the engine step (see `engine.feed.link`). Each console has its own
push task, so a slow one only delays itself: it always gets everything that changed since
its last delta (changes coalesce while it is busy), at most one frame is buffered for it
beyond the write limit, and one that stops reading for `send_timeout` is cut off.

Commands go through `engine.feed.link.LocalLink`, the one dispatch that keypresses use too.
Authentication is a bearer token checked in the opening handshake (see
`engine.control.protocol` for the wire format and `engine.control.files` for the token).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
from collections.abc import Coroutine
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from engine.config import ControlSettings
from engine.control import protocol as wire
from engine.control.files import (
    bind_problem,
    client_url,
    is_loopback_host,
    prepare_token,
    remove_url,
    save_token,
    token_path,
    url_path,
    write_url,
)
from engine.feed.link import LocalLink
from engine.feed.view import ViewStore

log = logging.getLogger("polyb0t.control")

MAX_REQUEST_BYTES = 64 * 1024  # requests are a few hundred bytes; nothing bigger is ours
WRITE_LIMIT = 256 * 1024
CLOSE_SECONDS = 0.5  # twice at most (polite, then abort): the daemon stops within 2 s

_NO_TOKEN = (
    "polyb0t control socket: no token. Send the header 'Authorization: Bearer <token>' with "
    "the token from control.token in the daemon's data dir (polyb0t tui --attach does).\n"
)
_WRONG_TOKEN = (
    "polyb0t control socket: wrong token. Use the one in control.token in the daemon's data "
    "dir (the daemon replaces that file when it was unsafe, so re-read it).\n"
)


class ControlStartError(RuntimeError):
    """The control socket cannot start as configured; the message says what to change."""


def check_bind(settings: ControlSettings) -> None:
    """Refuse to listen beyond loopback unless it was asked for explicitly."""
    problem = bind_problem(settings.host, settings.allow_remote)
    if problem:
        raise ControlStartError(problem)


class ControlServer:
    """Serves one engine (through its `LocalLink`) to any number of attached consoles."""

    def __init__(
        self,
        link: LocalLink,
        settings: ControlSettings,
        data_dir: Path,
        *,
        push_interval: float = 0.2,
        send_timeout: float = 5.0,
        max_in_flight: int = 8,
    ) -> None:
        self.link = link
        self.settings = settings
        self.data_dir = data_dir
        self.push_interval = push_interval
        self.send_timeout = send_timeout
        self.max_in_flight = max_in_flight
        self.url: str | None = None
        self._instance = secrets.token_hex(8)
        self._token = ""
        self._server: Server | None = None
        self._consoles: set[_Console] = set()
        link.view.watched = lambda: bool(self._consoles)  # no console: no view to build

    @property
    def attached(self) -> int:
        return len(self._consoles)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> str:
        """Listen, publish the URL and token files; returns the URL consoles use."""
        s = self.settings
        check_bind(s)
        tokens = token_path(self.data_dir)
        try:
            self._token, warning, fresh = prepare_token(tokens)
        except OSError as exc:
            raise ControlStartError(
                f"cannot read the control token in {self.data_dir}: {exc}"
            ) from None
        try:
            self._server = await serve(
                self._serve,
                s.host,
                s.port,
                process_request=self._authorize,
                compression=None,  # loopback: deflate would only cost the engine's loop CPU
                max_size=MAX_REQUEST_BYTES,
                write_limit=WRITE_LIMIT,
                close_timeout=CLOSE_SECONDS,
                server_header=None,
                logger=wire.quiet_socket_logger("polyb0t.control.ws"),
            )
        except OSError as exc:
            raise ControlStartError(
                f"control socket: cannot listen on {s.host}:{s.port}: "
                f"{exc.strerror or exc}. Is another daemon running? Set control.port "
                "(0: any free port) or control.enabled = false"
            ) from None
        # Listening: only now are the token and the URL published (a start that failed,
        # such as a port in use, leaves no file behind).
        try:
            if fresh:
                save_token(tokens, self._token)
            if warning:
                log.warning(warning)
            port = self._server.sockets[0].getsockname()[1]
            self.url = client_url(s.host, port)
            write_url(url_path(self.data_dir), self.url)
        except OSError as exc:
            self._server.close()
            raise ControlStartError(
                f"cannot write the control files in {self.data_dir}: {exc}"
            ) from None
        log.info("control socket on %s (token in %s)", self.url, token_path(self.data_dir))
        if not is_loopback_host(s.host):
            log.warning(
                "control socket listens beyond loopback (%s, allow_remote = true): anyone who "
                "reaches it with the token controls the engine, and ws:// is not encrypted",
                s.host,
            )
        return self.url

    async def close(self) -> None:
        """Disconnect every console (code 1001) and stop listening, within about a second."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close(code=1001, reason="daemon stopping")
        try:
            async with asyncio.timeout(CLOSE_SECONDS):
                await server.wait_closed()
        except TimeoutError:
            # A console that stopped reading blocks a polite close; cut it off.
            for console in list(self._consoles):
                console.abort()
            try:
                async with asyncio.timeout(CLOSE_SECONDS):
                    await server.wait_closed()
            except TimeoutError:
                log.warning("control socket: some consoles did not disconnect in time")
        if self.url:
            remove_url(url_path(self.data_dir), self.url)
        log.info("control socket closed")

    async def __aenter__(self) -> ControlServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- handshake ---------------------------------------------------------------------------

    def _authorize(self, conn: ServerConnection, request: Request) -> Response | None:
        header = request.headers.get("Authorization")
        peer = _peer(conn)
        if header is None:
            log.warning("refused a console from %s: no token", peer)
            response = conn.respond(HTTPStatus.UNAUTHORIZED, _NO_TOKEN)
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        scheme, _, given = header.partition(" ")
        expected = self._token.encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8", "replace"), expected
        ):
            log.warning("refused a console from %s: wrong token", peer)
            return conn.respond(HTTPStatus.FORBIDDEN, _WRONG_TOKEN)
        return None

    # --- one console ---------------------------------------------------------------------------

    async def _serve(self, ws: ServerConnection) -> None:
        console = _Console(ws, self.link.view.store, self.send_timeout)
        if not self._consoles:  # the first one: the view was not kept while nobody watched
            await self.link.inbox.call(self.link.view.catch_up)
        self._consoles.add(console)
        log.info("console attached from %s (%d attached)", console.peer, len(self._consoles))
        pusher: asyncio.Task[None] | None = None
        try:
            await console.send(wire.welcome(self._instance, self.push_interval))
            pusher = asyncio.create_task(self._push_loop(console))
            async for raw in ws:
                await self._take(console, raw)
        except (ConnectionClosed, _Dropped):
            pass
        finally:
            tasks = [t for t in (pusher, *console.tasks) if t is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._consoles.discard(console)
            log.info("console detached from %s (%d attached)", console.peer, len(self._consoles))

    async def _push_loop(self, console: _Console) -> None:
        try:
            while True:
                await console.push()
                try:
                    async with asyncio.timeout(self.push_interval):
                        await console.wake.wait()
                except TimeoutError:
                    pass
                console.wake.clear()
        except (ConnectionClosed, _Dropped):
            pass
        except Exception:
            log.exception("control socket: pushing to %s failed", console.peer)
            console.abort()

    async def _take(self, console: _Console, raw: str | bytes) -> None:
        """Start answering one request. Refusals are sent before reading on, so a console
        flooding bad frames is slowed to its own reading speed; real requests run
        concurrently (a slow detail must not hold up an approval), at most `max_in_flight`."""
        try:
            request = wire.parse_request(raw)
        except wire.ProtocolError as exc:
            await console.send(wire.error_message(exc.request_id, str(exc)))
            return
        if len(console.tasks) >= self.max_in_flight:
            busy = f"too many requests in flight (at most {self.max_in_flight}); wait for answers"
            await console.send(wire.error_message(request.id, busy))
            return
        console.spawn(self._answer(console, request))

    async def _answer(self, console: _Console, request: wire.Request) -> None:
        try:
            if isinstance(request, wire.CommandRequest):
                reply = await self._command(console, request)
            else:
                detail = await self.link.detail(request.market_id)
                reply = wire.detail_message(request.id, detail)
        except (ConnectionClosed, _Dropped):
            return  # the console left while its request ran
        except Exception as exc:  # a failing request must not take the connection down
            log.exception("control socket: request from %s failed", console.peer)
            reply = wire.error_message(request.id, f"failed: {type(exc).__name__}: {exc}")
        await self._reply(console, reply)

    async def _command(self, console: _Console, request: wire.CommandRequest) -> str:
        result = await self.link.command(request.name, **request.args)
        log.info(
            "console %s: %s%s -> %s",
            console.peer,
            request.name,
            _show_args(request.args),
            result.message,
        )
        for other in self._consoles:  # everyone sees the effect now, not at the next tick
            other.wake.set()
        await console.push()  # and the sender before it reads the result
        return wire.result_message(request.id, result)

    async def _reply(self, console: _Console, text: str) -> None:
        with contextlib.suppress(ConnectionClosed, _Dropped):
            await console.send(text)


class _Dropped(Exception):
    """The console stopped reading and was cut off."""


class _Console:
    """One attached console: what it was last sent, and one send at a time to it."""

    def __init__(self, ws: ServerConnection, store: ViewStore, send_timeout: float) -> None:
        self.ws = ws
        self.store = store
        self.send_timeout = send_timeout
        self.peer = _peer(ws)
        self.sent_seq: int | None = None
        self.wake = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()  # keeps a command's delta ahead of its result

    async def push(self) -> None:
        async with self._lock:
            if self.sent_seq is not None and self.store.seq == self.sent_seq:
                return
            text, seq = await asyncio.to_thread(_encode_since, self.store, self.sent_seq or 0)
            await self._send(text)
            self.sent_seq = seq

    async def send(self, text: str) -> None:
        async with self._lock:
            await self._send(text)

    async def _send(self, text: str) -> None:
        try:
            async with asyncio.timeout(self.send_timeout):
                await self.ws.send(text)
        except TimeoutError:
            log.warning(
                "console %s stopped reading for %g s: disconnecting it",
                self.peer,
                self.send_timeout,
            )
            self.abort()
            raise _Dropped from None

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def abort(self) -> None:
        """Drop the TCP connection at once: a polite close would wait on a full buffer."""
        self.ws.transport.abort()


def _encode_since(store: ViewStore, since: int) -> tuple[str, int]:
    delta = store.pull(since)
    return wire.delta_message(delta), delta.seq


def _peer(conn: ServerConnection) -> str:
    try:
        addr = conn.remote_address
    except Exception:  # the transport may already be gone
        return "?"
    if isinstance(addr, tuple) and len(addr) >= 2:
        return f"{addr[0]}:{addr[1]}"
    return str(addr)


def _show_args(args: dict[str, Any]) -> str:
    if not args:
        return ""
    text = " ".join(f"{k}={v}" for k, v in args.items())
    return " " + (text if len(text) <= 120 else text[:117] + "...")
