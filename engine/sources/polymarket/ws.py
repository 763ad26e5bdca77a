"""Market-channel websocket streams: sharded, kept alive, self-healing (docs/polymarket_api.md §5).

One `MarketStream` per connection of at most `ws_assets_per_connection` assets (a socket with
more than ~500 loses its initial snapshots: docs/polymarket_api.md, gotcha G14). Each stream:
- subscribes `{"type": "market", "assets_ids": [...], "custom_feature_enabled": true}`
  right after connecting, then sends the text `PING` every `ws_ping_seconds` (never before
  subscribing: the server closes with 1008 then); `PONG` answers are swallowed by the decoder;
- watches for a silent stall (docs/polymarket_api.md, gotcha G12) with a `stall.StallDetector`:
  a PING nothing answers, or market data silent past what the connection's recent activity
  makes likely. A stalled connection has its markets untrusted at once, then is resubscribed on
  a new connection, which brings fresh snapshots; the warning names the connection, how long it
  was silent and how many markets lost trust;
- keeps `last_data` (monotonic time of its last market-data frame) and `market_ids` for the
  source's `stale.StaleGuard`, which reads them from the engine's worker thread;
- reconnects after a drop with exponential backoff (`ws_reconnect_min/max_seconds`, ×2,
  jittered), resubscribing everything;
- marks its markets untrusted on drop, stall, failed connect and tick size change, trusted
  again after fresh snapshots (`trust.TrustTracker`); tokens still without a snapshot
  `ws_snapshot_timeout_seconds` after subscribing, and tokens whose tick changed, get a
  REST snapshot through the `refresh` callback when one is given.
Malformed frames are logged and skipped; nothing a frame contains stops a stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection, connect

from engine.config import PolymarketSettings
from engine.events import BookSnapshot, SourceEvent
from engine.models import Market
from engine.sources.polymarket.eventqueue import FrameLane
from engine.sources.polymarket.frames import (
    BOOK_DECODER,
    CHANGE_DECODER,
    ChangeFrame,
    book_decoder,
    changes_refused,
    levels_refused,
)
from engine.sources.polymarket.parse_ws import MarketChannelParser
from engine.sources.polymarket.stall import StallDetector
from engine.sources.polymarket.trust import TrustTracker

log = logging.getLogger("polyb0t.polymarket.ws")

Sink = Callable[[list[SourceEvent]], None]
Refresh = Callable[[list[str]], Awaitable[list[BookSnapshot]]]


class FrameSink(Protocol):
    """Where streams put the book frames they decoded themselves (`EventQueue`): each
    stream in a lane of its own."""

    def lane(self, members: Mapping[str, object]) -> FrameLane: ...


PING = "PING"
MIN_SLEEP = 0.005  # keepalive wake-ups at most this often, whatever the deadlines say


def subscribe_message(assets: Sequence[str]) -> str:
    return msgspec.json.encode(
        {"type": "market", "assets_ids": list(assets), "custom_feature_enabled": True}
    ).decode()


def add_assets_message(assets: Sequence[str]) -> str:
    """Subscribe more assets on a live connection (docs/polymarket_api.md §5.1, dynamic changes)."""
    return msgspec.json.encode(
        {"operation": "subscribe", "assets_ids": list(assets), "custom_feature_enabled": True}
    ).decode()


class _Resubscribe(Exception):
    """Raised inside a session to end it and connect again at once."""


class MarketStream:
    """One websocket connection and the markets subscribed on it."""

    def __init__(
        self,
        name: str,
        settings: PolymarketSettings,
        parser: MarketChannelParser,
        sink: Sink,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        refresh: Refresh | None = None,
        rng: random.Random | None = None,
        frames: FrameSink | None = None,
    ) -> None:
        """`frames`: book frames go there, decoded but not made into events (the engine's
        path); without it every frame becomes `SourceEvent`s for `sink`."""
        self.name = name
        self.s = settings
        self.parser = parser
        self.sink = sink
        self.clock = clock
        self._now = monotonic
        self.refresh = refresh
        self.trust = TrustTracker(clock)
        self.lane = frames.lane(self.trust.members) if frames is not None else None
        self.detector = StallDetector(settings)
        self._rng = rng if rng is not None else random.Random()
        self._ws: ClientConnection | None = None
        self._stopping = False
        self._stopped = asyncio.Event()
        self._resubscribe_reason: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Read by the source's stale guard on another thread: a float set here (after the
        # frame's events are queued) and a list only ever appended to.
        self.last_data = monotonic()  # last market-data frame (or creation), monotonic
        self.market_ids: list[str] = []
        # Counters (logs, tests, a future status pane).
        self.connects = 0
        self.stalls = 0
        self.frames = 0
        self.bad_frames = 0
        self.pings_sent = 0

    # --- membership ------------------------------------------------------------------------

    @property
    def assets(self) -> list[str]:
        return self.trust.tokens

    def room(self) -> int:
        return self.s.ws_assets_per_connection - len(self.trust.tokens)

    def add_market(self, market: Market) -> None:
        """Track and (if connected) subscribe a market's two tokens on this connection."""
        tokens = [market.yes_token, market.no_token]
        if self.trust.market_of(market.yes_token) is None:
            self.market_ids.append(market.market_id)
        self.trust.add(market.market_id, tokens)
        if self.lane is not None:
            self.lane.tokens_changed()
        ws = self._ws
        if ws is not None:
            self._spawn(self._send(ws, add_assets_message(tokens)))

    # --- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, subscribe, read; on any break reconnect with backoff, until `stop`."""
        delay = self.s.ws_reconnect_min_seconds
        while not self._stopping:
            reason, immediate, got_data = await self._connection()
            if self._stopping:
                break
            self._deliver_trust(reason)
            if got_data:
                delay = self.s.ws_reconnect_min_seconds
            if immediate and got_data:
                log.info("ws %s: %s; resubscribing", self.name, reason)
                continue
            wait = delay / 2 + self._rng.uniform(0, delay / 2)
            log.warning("ws %s: %s; reconnecting in %.1f s", self.name, reason, wait)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), timeout=wait)
            delay = min(delay * 2, self.s.ws_reconnect_max_seconds)

    async def _connection(self) -> tuple[str, bool, bool]:
        """One connection from connect to close: (why it ended, reconnect at once?, did it
        deliver data?). Never raises, except to cancellation."""
        frames_before = self.frames
        try:
            async with connect(
                self.s.ws_url,
                ping_interval=None,  # the text PING instead: docs/polymarket_api.md §5.2
                open_timeout=self.s.ws_open_timeout_seconds,
                close_timeout=0.5,
                max_size=self.s.ws_max_frame_bytes,
            ) as ws:
                if self._stopping:
                    return "stopping", False, False
                self.connects += 1
                # Published before the first await, so a market added meanwhile is either
                # in this subscription or sent as a dynamic one after it.
                self._ws = ws
                self._resubscribe_reason = None
                self.detector.start(self._now())
                try:
                    await ws.send(subscribe_message(self.trust.tokens))
                    await self._session(ws)
                except _Resubscribe as exc:
                    return str(exc), True, self.frames > frames_before
                finally:
                    self._ws = None
                code = ws.close_code
                why = f"close code {code}" if code is not None else "no close frame"
                return f"connection lost ({why})", False, self.frames > frames_before
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            reason = f"connection failed: {type(exc).__name__}: {exc}"
        except Exception as exc:  # a bug here must not end the shard for good
            log.exception("ws %s: connection handling failed", self.name)
            reason = f"internal error: {type(exc).__name__}"
        return reason, False, self.frames > frames_before

    async def stop(self) -> None:
        self._stopping = True
        self._stopped.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), timeout=0.3)
        for task in list(self._tasks):
            task.cancel()

    def request_resubscribe(self, reason: str) -> None:
        """End the current session and start a new one (fresh snapshots for everything)."""
        self._resubscribe_reason = reason
        ws = self._ws
        if ws is not None:
            self._spawn(ws.close())

    # --- one connection --------------------------------------------------------------------

    async def _session(self, ws: ClientConnection) -> None:
        keeper = asyncio.create_task(self._keepalive(ws))
        detector = self.detector
        try:
            async for frame in ws:
                if self._resubscribe_reason is not None:
                    continue  # being replaced (a stall, a tick change): nothing it says counts
                self.on_frame(frame)
                now = self._now()
                if frame == "PONG":
                    detector.on_pong(now)
                else:
                    detector.on_data(now)
                    self.last_data = now  # only now: the frame's events are queued
        except websockets.ConnectionClosed:
            pass
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, websockets.ConnectionClosed):
                await keeper
        if self._resubscribe_reason is not None:
            reason, self._resubscribe_reason = self._resubscribe_reason, None
            raise _Resubscribe(reason)

    async def _keepalive(self, ws: ClientConnection) -> None:
        """PING on schedule; end a stalled session; REST-fetch snapshots that never came.
        Sleeps until the next deadline, so a stall is acted on as soon as it is one."""
        detector = self.detector
        snapshot_due: float | None = self._now() + self.s.ws_snapshot_timeout_seconds
        while True:
            now = self._now()
            reason = detector.check(now)
            if reason is not None:
                self._stalled(reason, now)
                return
            if detector.ping_due(now):
                try:
                    await ws.send(PING)
                except websockets.ConnectionClosed:
                    return
                self.pings_sent += 1
                detector.on_ping(now)
            if snapshot_due is not None and now >= snapshot_due:
                snapshot_due = None
                missing = sorted(self.trust.awaiting)
                if missing and self.refresh is not None:
                    log.info("ws %s: %d books without a snapshot; REST", self.name, len(missing))
                    self._spawn(self._refresh(missing, resubscribe_on_failure=False))
            wake = detector.next_wake()
            if snapshot_due is not None:
                wake = min(wake, snapshot_due)
            await asyncio.sleep(max(wake - self._now(), MIN_SLEEP))

    def _stalled(self, reason: str, now: float) -> None:
        """Untrust every market of the connection at once, say so, and replace it."""
        self.stalls += 1
        why = f"stalled: {reason}"
        lost = self.trust.lost(why)
        if lost:
            self.sink(list(lost))
        log.warning(
            "ws %s: %s; silent %.1f s, %d of %d markets untrusted; resubscribing",
            self.name,
            why,
            now - self.last_data,
            len(lost),
            len(self.market_ids),
        )
        self.request_resubscribe(why)

    def on_frame(self, frame: str | bytes) -> None:
        """Handle one received frame (the session calls this for each; so does the bench).

        Written for the frame nearly every frame is, a current-layout `price_change` with
        nothing awaiting a snapshot: one decode (the lane's fast decoder), one comparison
        (`TrustTracker.fresh_ms`), one append to the lane (`FrameLane.add_changes`,
        inlined: a call costs as much as the rest). Whether its tokens are subscribed on
        this connection is checked per batch (`chunks.build_batch`). Everything else takes
        `_on_refused`.
        """
        self.frames += 1
        try:
            lane = self.lane
            if lane is None:
                self._on_general_frame(frame)
                return
            decode = lane.decode  # a plain load: a method load of it is not specialised
            try:
                msg = decode(frame)
            except msgspec.ValidationError as exc:
                self._on_refused(frame, lane, exc)
                return
            except (msgspec.DecodeError, RecursionError):  # not JSON (a PONG), too deep
                self._on_general_frame(frame)
                return
            if msg.timestamp >= self.trust.fresh_ms:
                frames = lane.frames
                frames.append(msg)
                if len(frames) >= lane.limit:
                    lane.pack()
            else:
                self._add_kept(msg, lane)
        except Exception:  # a parser bug must not end the stream
            self.bad_frames += 1
            log.exception("ws %s: frame handling failed", self.name)

    def _on_refused(
        self, frame: str | bytes, lane: FrameLane, exc: msgspec.ValidationError
    ) -> None:
        """A frame the fast change decoder refused: a `book` (either book decoder), a
        `price_change` whose entries it could not take (the plain decoder tries), or
        anything else (the general way decodes it, and reports it if malformed). The book
        decoder goes first: books are the common case here, and reading where the change
        decoder refused a frame costs formatting its error."""
        try:
            book = book_decoder().decode(frame)
        except msgspec.ValidationError as refused:
            if levels_refused(refused):
                self._on_book(BOOK_DECODER.decode, frame, lane)
            elif changes_refused(exc):
                self._on_plain_changes(frame, lane)
            else:
                self._on_general_frame(frame)
            return
        except (msgspec.DecodeError, RecursionError):
            self._on_general_frame(frame)
            return
        self._add_book(book, lane)

    def _on_book(
        self, decode: Callable[[str | bytes], Any], frame: str | bytes, lane: FrameLane
    ) -> None:
        try:
            book = decode(frame)
        except (msgspec.DecodeError, RecursionError):
            self._on_general_frame(frame)
            return
        self._add_book(book, lane)

    def _add_book(self, book: Any, lane: FrameLane) -> None:
        known, trusted = self.trust.snapshot(book.asset_id, book.timestamp / 1000.0)
        if known:
            lane.add_book(book)
        if trusted is not None:
            self.sink([trusted])

    def _on_plain_changes(self, frame: str | bytes, lane: FrameLane) -> None:
        try:
            msg = CHANGE_DECODER.decode(frame)
        except (msgspec.DecodeError, RecursionError):
            self._on_general_frame(frame)
            return
        self._add_kept(msg, lane)

    def _add_kept(self, msg: Any, lane: FrameLane) -> None:
        """The levels of a change frame that the trust filter keeps, entry by entry."""
        kept = self.trust.keep(msg)
        if len(kept) == len(msg.price_changes):
            lane.add_changes(msg)
        elif kept:
            lane.add_changes(
                ChangeFrame(
                    price_changes=tuple(kept), timestamp=msg.timestamp, event_type=msg.event_type
                )
            )

    def _on_general_frame(self, frame: str | bytes) -> None:
        events, errors = self.parser.parse(frame)
        if errors:
            self.bad_frames += 1
            for err in errors[:3]:
                log.warning("ws %s: skipped malformed event: %s", self.name, err)
        if events:
            self._deliver(events)

    def _deliver(self, events: list[SourceEvent]) -> None:
        out, retick = self.trust.filter(events)
        if out:
            self.sink(out)
        if retick:
            self._spawn(self._refresh(retick, resubscribe_on_failure=True))

    def _deliver_trust(self, reason: str) -> None:
        lost = self.trust.lost(reason)
        if lost:
            self.sink(list(lost))

    async def _refresh(self, tokens: list[str], *, resubscribe_on_failure: bool) -> None:
        if self.refresh is None:
            if resubscribe_on_failure:
                self.request_resubscribe("tick size change")
            return
        try:
            snaps = await self.refresh(tokens)
        except Exception as exc:
            log.warning("ws %s: REST snapshot of %d books failed: %s", self.name, len(tokens), exc)
            if resubscribe_on_failure:
                self.request_resubscribe("tick size change (REST snapshot failed)")
            return
        if snaps:
            self._deliver(list(snaps))
        if resubscribe_on_failure and not self.trust.awaiting.isdisjoint(tokens):
            self.request_resubscribe("tick size change (REST had no snapshot)")

    async def _send(self, ws: ClientConnection, text: str) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            await ws.send(text)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class MarketStreams:
    """All connections: shards markets (both tokens together) and runs one task each."""

    def __init__(
        self,
        settings: PolymarketSettings,
        sink: Sink,
        *,
        known: Mapping[str, Market] | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        refresh: Refresh | None = None,
        rng: random.Random | None = None,
        frames: FrameSink | None = None,
    ) -> None:
        self.s = settings
        self.sink = sink
        self.frame_sink = frames
        self.parser = MarketChannelParser(known)
        self.clock = clock
        self.monotonic = monotonic
        self.refresh = refresh
        self._rng = rng if rng is not None else random.Random()
        self.streams: list[MarketStream] = []
        self._tasks: dict[MarketStream, asyncio.Task[None]] = {}
        self._running = False

    def add_markets(self, markets: Sequence[Market]) -> None:
        for m in markets:
            stream = next((s for s in self.streams if s.room() >= 2), None)
            if stream is None:
                stream = MarketStream(
                    f"shard-{len(self.streams)}",
                    self.s,
                    self.parser,
                    self.sink,
                    clock=self.clock,
                    monotonic=self.monotonic,
                    refresh=self.refresh,
                    rng=self._rng,
                    frames=self.frame_sink,
                )
                self.streams.append(stream)
            stream.add_market(m)
        if self._running:
            self._start_missing()

    def _start_missing(self) -> None:
        for stream in self.streams:
            if stream not in self._tasks:
                self._tasks[stream] = asyncio.create_task(stream.run(), name=stream.name)

    async def start(self) -> None:
        self._running = True
        self._start_missing()

    async def stop(self, timeout: float = 1.0) -> None:
        """Close every connection; tasks that do not finish within `timeout` are cancelled."""
        self._running = False
        await asyncio.gather(*(s.stop() for s in self.streams), return_exceptions=True)
        tasks = list(self._tasks.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for t in pending:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
