"""`RemoteLink`: the console's `EngineLink` to an engine in a daemon, over its control socket.

The console code is the same whether the engine is in-process or not, because both links
end in a `ViewStore`: here the daemon's pushed deltas are applied to a local one, so
`pull(since)` never touches the network and is cheap enough for the UI timer (and safe from
any thread). Commands and market details are requests with ids, answered in any order.

The socket lives on the asyncio loop that awaited `connect` (the Textual app's loop is the
intended one); `command` and `detail` must be awaited on that loop too.

If the daemon goes away the link says so in the view (state "disconnected", a log line),
answers commands with a failed `CommandResult` instead of raising, and reconnects with
backoff. A refused token or a daemon speaking another protocol ends the retries: waiting
would not fix either.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI, WebSocketException

from engine.control import protocol as wire
from engine.feed.view import CommandResult, MarketDetail, ViewDelta, ViewStore

MAX_MESSAGE_BYTES = 256 * 1024 * 1024  # a full view of 100,000 markets is ~40 MB
PARSE_OFF_LOOP_BYTES = 64 * 1024  # bigger frames are decoded in a thread, off the UI loop
DISCONNECTED = "disconnected"  # the status state shown while the daemon is away


class LinkError(ConnectionError):
    """The daemon could not be asked (not connected, no answer, connection lost)."""

    def __init__(self, message: str, *, sent: bool = False) -> None:
        super().__init__(message)
        self.sent = sent  # the request left: the daemon may have acted on it


class AttachError(LinkError):
    """Cannot attach to the daemon; the message says why and what to do."""


class TokenRefused(AttachError):
    """The daemon refused this console's token."""


class ProtocolMismatch(AttachError):
    """The daemon speaks another version of the protocol (upgrade one of them)."""


class RemoteLink:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        store: ViewStore | None = None,
        request_timeout: float = 10.0,
        open_timeout: float = 5.0,
        reconnect: bool = True,
        backoff: tuple[float, float] = (0.5, 10.0),
    ) -> None:
        self.url = url
        self._token = token
        self.store = store or ViewStore()
        self.request_timeout = request_timeout
        self.open_timeout = open_timeout
        self.reconnect = reconnect
        self.backoff = backoff
        self.error: str | None = None  # why the link is not connected; None while it is
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: dict[wire.RequestId, asyncio.Future[wire.ServerMessage]] = {}
        self._ids = itertools.count(1)
        self._closing = False
        self._instance: str | None = None
        self._server_log = 0  # newest daemon log seq taken from this daemon instance
        self._log_seq = 0  # our own numbering of log lines, monotonic across daemons

    @classmethod
    async def connect(cls, url: str, token: str, **options: Any) -> RemoteLink:
        """Attach and wait for the first full view; raises `AttachError` saying why not."""
        link = cls(url, token, **options)
        await link.start()
        return link

    async def start(self) -> None:
        ws = await self._open()
        self._ws = ws  # usable as soon as connect returns, before the reader task runs
        self._task = asyncio.create_task(self._run(ws), name="polyb0t-remote-link")

    @property
    def connected(self) -> bool:
        return self._ws is not None

    # --- EngineLink ----------------------------------------------------------------------------

    def pull(self, since: int) -> ViewDelta:
        return self.store.pull(since)

    async def command(self, name: str, **args: Any) -> CommandResult:
        try:
            answer = await self._request(lambda rid: wire.command_request(rid, name, args))
        except LinkError as exc:
            maybe = "; it may still have taken effect: check the intents" if exc.sent else ""
            return CommandResult(False, f"{name}: {exc}{maybe}")
        if isinstance(answer, wire.ResultMessage):
            return answer.result
        if isinstance(answer, wire.ErrorMessage):
            return CommandResult(False, f"{name}: the daemon could not take it: {answer.message}")
        return CommandResult(False, f"{name}: unexpected answer from the daemon")

    async def detail(self, market_id: str) -> MarketDetail | None:
        """None for a market the daemon does not know; raises `LinkError` when it cannot ask."""
        answer = await self._request(lambda rid: wire.detail_request(rid, market_id))
        if isinstance(answer, wire.DetailMessage):
            return answer.detail
        if isinstance(answer, wire.ErrorMessage):
            raise LinkError(f"the daemon could not answer: {answer.message}", sent=True)
        raise LinkError("unexpected answer from the daemon", sent=True)

    async def close(self) -> None:
        self._closing = True
        ws, task = self._ws, self._task
        if ws is not None:
            await ws.close()
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._ws = None

    # --- requests ------------------------------------------------------------------------------

    async def _request(self, build: Callable[[int], str]) -> wire.ServerMessage:
        ws = self._ws
        if ws is None:
            raise LinkError(f"not connected to the daemon ({self.error or 'closed'})")
        request_id = next(self._ids)
        answer: asyncio.Future[wire.ServerMessage] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = answer
        try:
            await ws.send(build(request_id))
        except ConnectionClosed:
            self._pending.pop(request_id, None)
            raise LinkError("lost the connection to the daemon") from None
        try:
            async with asyncio.timeout(self.request_timeout):
                return await answer
        except TimeoutError:
            raise LinkError(
                f"no answer from the daemon within {self.request_timeout:g} s", sent=True
            ) from None
        finally:
            self._pending.pop(request_id, None)

    def _fail_pending(self, reason: str) -> None:
        for answer in self._pending.values():
            if not answer.done():
                answer.set_exception(
                    LinkError(f"lost the daemon before it answered ({reason})", sent=True)
                )
        self._pending.clear()

    # --- connection ----------------------------------------------------------------------------

    async def _open(self) -> ClientConnection:
        """Connect, check the welcome and apply the first (full) view."""
        try:
            ws = await ws_connect(
                self.url,
                additional_headers={"Authorization": f"Bearer {self._token}"},
                compression=None,
                proxy=None,  # the token must never pass through a proxy
                max_size=MAX_MESSAGE_BYTES,
                open_timeout=self.open_timeout,
                close_timeout=1.0,
                user_agent_header=None,
                logger=wire.quiet_socket_logger("polyb0t.remote.ws"),
            )
        except InvalidStatus as exc:
            raise _refused(self.url, exc) from None
        except InvalidURI:
            raise AttachError(f"not a control socket URL: {self.url!r}") from None
        except (OSError, TimeoutError) as exc:
            raise AttachError(
                f"no daemon answers at {self.url} ({_why(exc)}); start one with "
                "`polyb0t run --daemon`"
            ) from None
        except WebSocketException as exc:
            raise AttachError(f"{self.url} is not a polyb0t control socket: {exc}") from None
        try:
            hello = await self._receive(ws)
            if not isinstance(hello, wire.Welcome):
                raise wire.ProtocolError("the daemon did not start with a welcome")
            if hello.protocol != wire.PROTOCOL_VERSION:
                raise ProtocolMismatch(
                    f"the daemon speaks control protocol {hello.protocol}, this console "
                    f"{wire.PROTOCOL_VERSION}: run the same polyb0t version on both"
                )
            if hello.instance != self._instance:  # a new daemon: its log numbering restarts
                self._instance = hello.instance
                self._server_log = 0
            first = await self._receive(ws)
            if not isinstance(first, wire.DeltaMessage):
                raise wire.ProtocolError("the daemon did not send the view first")
        except BaseException as exc:
            await ws.close()
            if isinstance(exc, AttachError):
                raise
            if isinstance(exc, ConnectionClosed | TimeoutError | wire.ProtocolError):
                raise AttachError(f"attaching to {self.url} failed: {_why(exc)}") from None
            raise
        return ws

    async def _receive(self, ws: ClientConnection) -> wire.ServerMessage:
        """One message, decoded; a view delta is applied to the store on the way."""
        async with asyncio.timeout(self.open_timeout):
            raw = await ws.recv()
        return await self._take(raw)

    async def _take(self, raw: str | bytes) -> wire.ServerMessage:
        if len(raw) > PARSE_OFF_LOOP_BYTES:
            return await asyncio.to_thread(self._decode, raw)
        return self._decode(raw)

    def _decode(self, raw: str | bytes) -> wire.ServerMessage:
        msg = wire.parse_server_message(raw)
        if isinstance(msg, wire.DeltaMessage):
            self._apply(msg.delta)
        return msg

    def _apply(self, delta: ViewDelta) -> None:
        """Fold a daemon delta into our store, renumbering its log lines: the store drops
        lines numbered at or below the newest it took, and a restarted daemon counts from 1."""
        lines = []
        for line in delta.log:
            if line.seq > self._server_log:
                self._server_log = line.seq
                self._log_seq += 1
                lines.append(replace(line, seq=self._log_seq))
        self.store.apply(replace(delta, log=tuple(lines)))

    async def _run(self, ws: ClientConnection | None) -> None:
        while ws is not None:
            self._ws, self.error = ws, None
            reason = await self._read(ws)
            self._ws = None
            self._fail_pending(reason)
            if self._closing:
                return
            self.error = reason
            again = "; reconnecting" if self.reconnect else ""
            self.store.add_log(
                time.time(), "WARNING", f"lost the daemon at {self.url}: {reason}{again}"
            )
            self.store.with_status(state=DISCONNECTED, reason=reason)
            ws = await self._reconnect() if self.reconnect else None

    async def _read(self, ws: ClientConnection) -> str:
        """Take messages until the connection ends; returns why it ended."""
        try:
            async for raw in ws:
                try:
                    msg = await self._take(raw)
                except wire.ProtocolError as exc:
                    self.store.add_log(
                        time.time(), "WARNING", f"bad message from the daemon: {exc}"
                    )
                    continue
                self._answer(msg)
        except ConnectionClosed:
            pass
        return _closed_why(ws)

    def _answer(self, msg: wire.ServerMessage) -> None:
        if isinstance(msg, wire.ResultMessage | wire.DetailMessage | wire.ErrorMessage):
            answer = None if msg.id is None else self._pending.get(msg.id)
            if answer is not None and not answer.done():
                answer.set_result(msg)
            elif isinstance(msg, wire.ErrorMessage):
                self.store.add_log(time.time(), "WARNING", f"daemon: {msg.message}")

    async def _reconnect(self) -> ClientConnection | None:
        low, high = self.backoff
        delay = low
        while not self._closing:
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            try:
                ws = await self._open()
            except (TokenRefused, ProtocolMismatch) as exc:
                self.error = str(exc)
                self.store.add_log(time.time(), "ERROR", f"{exc}; not retrying")
                self.store.with_status(state=DISCONNECTED, reason=str(exc))
                return None
            except AttachError as exc:
                self.error = str(exc)
                delay = min(delay * 2, high)
                continue
            self.store.add_log(time.time(), "INFO", f"reconnected to the daemon at {self.url}")
            return ws
        return None


def _refused(url: str, exc: InvalidStatus) -> AttachError:
    status = exc.response.status_code
    body = exc.response.body.decode("utf-8", "replace").strip() if exc.response.body else ""
    if status in (401, 403):
        return TokenRefused(f"the daemon at {url} refused this console: {body or status}")
    return AttachError(
        f"{url} answered HTTP {status}, so it is not a polyb0t control socket"
        + (f": {body[:200]}" if body else "")
    )


def _closed_why(ws: ClientConnection) -> str:
    code, reason = ws.close_code, ws.close_reason
    if code == 1001:
        return "the daemon is stopping"
    if code in (None, 1006):
        return "the connection dropped"
    return f"closed with code {code}" + (f" ({reason})" if reason else "")


def _why(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__
