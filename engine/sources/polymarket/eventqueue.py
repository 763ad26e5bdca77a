"""The hand-over between the websocket tasks (event loop thread) and `poll` (worker thread).

`poll` gets everything queued so far. Each connection writes its book frames into a
`FrameLane` of its own: a change frame is appended to a list (`ws.MarketStream.on_frame`
does it inline); a book frame is kept with the number of change frames before it. Every
`chunk_frames` change frames the lane packs what it holds into a `chunks.Chunk` (numbers in
bytes, no Python object per level), and `drain` makes one `BookBatch` of the chunks of
every lane; events (`put`) keep their order among themselves.

Why chunks: a decoded frame is a dozen Python objects; kept until the engine step (10,000
frames later) they had left the CPU caches, and allocating, reading and freeing them cold
cost more than decoding them. Packed within a few hundred frames, they are read while
still cached and their memory is reused at once.

Threads. Change frames, nearly every item, are appended without the lock: `list.append` is
atomic in CPython (the language FAQ lists it among the thread-safe operations), and packing
(`FrameLane.pack`, under the lock) takes the frames with a slice copy, then deletes that
many from the front, each atomic too: a frame appended meanwhile stays for the next pack.
Book frames, events, packing and `drain` take the lock, so no book is packed without the
change frames before it, and token codes (`chunks.TokenCodes`) are only given out under it.

Order. Frames of one lane keep their order; frames of two lanes touch disjoint books (a
market's two tokens share a connection, and a level of a token another connection
subscribed is dropped), so their relative order is not kept. Events that `MarketState`
orders against book frames (book events of their own, such as REST snapshots, and
listings, which make tokens known: `_BOOKISH`) cut every lane where it stands: the frames
before go into a batch placed before them, the frames after into a later one. Any other
event (trades, trust, ticks) changes nothing the books depend on, so it cuts nothing: it
keeps its place among the events, and a batch may move past it. (Cutting on every event
made one batch per trade.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from engine.events import (
    BookBatch,
    BookSnapshot,
    MarketListed,
    PriceChange,
    SourceEvent,
    WholeBooks,
)
from engine.sources.polymarket.chunks import (
    Chunk,
    LaneChunks,
    TokenCodes,
    build_batch,
    pack_chunk,
)
from engine.sources.polymarket.frames import change_decoder

_BOOKISH = (BookBatch, BookSnapshot, PriceChange, WholeBooks, MarketListed)
CHUNK_FRAMES = 256  # change frames a lane holds as objects before it packs them (default)


class FrameLane:
    """One connection's book frames, waiting for `drain`.

    `members` says which tokens are subscribed on the connection (its trust tracker's
    table): `build_batch` drops the levels of any other token, as the trust filter does.
    `decode` is the fast `price_change` decoder of every lane (`frames.change_decoder`,
    tokens of all lanes: the lane checks its own), rebuilt on the first frame after any
    lane's tokens change (`EventQueue.tokens_changed`).
    """

    __slots__ = ("_queue", "books", "chunks", "decode", "frames", "index", "limit", "members")

    def __init__(self, queue: EventQueue, index: int, members: Mapping[str, object]) -> None:
        self._queue = queue
        self.index = index  # in its queue's lanes
        self.limit = queue.chunk_frames  # change frames held before a pack
        self.members = members
        self.decode: Callable[[bytes | str], Any] = queue.rebuild_decoder
        self.frames: list[Any] = []  # change frames not packed yet (either decoder's)
        self.books: list[tuple[int, Any]] = []  # (change frames before it, book frame)
        self.chunks: list[Chunk] = []

    def tokens_changed(self) -> None:
        self._queue.tokens_changed()

    def add_changes(self, frame: Any) -> None:
        """A change frame, either decoder's (`on_frame` inlines this for the common one)."""
        frames = self.frames
        frames.append(frame)
        if len(frames) >= self.limit:
            self.pack()

    def add_book(self, frame: Any) -> None:
        """A book frame, either decoder's."""
        with self._queue.lock:
            self.books.append((len(self.frames), frame))

    def pack(self) -> None:
        with self._queue.lock:
            self._pack()

    def _pack(self) -> None:
        """Everything held as objects into a chunk (the lock held)."""
        frames = self.frames[:]
        if not frames and not self.books:
            return
        del self.frames[: len(frames)]
        books, self.books = self.books, []
        codes = self._queue.codes
        self.chunks.append(pack_chunk(frames, books, codes, self.index, self.members))


class EventQueue:
    def __init__(self, chunk_frames: int = CHUNK_FRAMES) -> None:
        self.chunk_frames = chunk_frames
        self.lock = threading.Lock()
        self._lanes: list[FrameLane] = []
        # Event lists in arrival order; a `_BOOKISH` one with every lane's chunks there.
        self._marks: list[tuple[list[int] | None, list[SourceEvent]]] = []
        self.codes = TokenCodes()  # grown under the lock

    def lane(self, members: Mapping[str, object]) -> FrameLane:
        with self.lock:
            lane = FrameLane(self, len(self._lanes), members)
            self._lanes.append(lane)
        self.tokens_changed()
        return lane

    def tokens_changed(self) -> None:
        """Some lane's tokens changed: every lane rebuilds its decoder on its next frame.
        (Event loop thread, like the frames.)"""
        for lane in self._lanes:
            lane.decode = self.rebuild_decoder

    def rebuild_decoder(self, frame: bytes | str) -> Any:
        """`FrameLane.decode` after the tokens changed: build, hand out, decode."""
        tokens = {t: None for lane in self._lanes for t in lane.members}
        decode = change_decoder(tokens).decode
        for lane in self._lanes:
            lane.decode = decode
        return decode(frame)

    def put(self, events: Iterable[SourceEvent]) -> None:
        items = list(events)
        if not items:
            return
        with self.lock:
            cuts = None
            if any(isinstance(ev, _BOOKISH) for ev in items):
                for lane in self._lanes:
                    lane._pack()
                cuts = [len(lane.chunks) for lane in self._lanes]
            self._marks.append((cuts, items))

    def drain(self) -> list[SourceEvent]:
        with self.lock:
            taken: list[tuple[FrameLane, list[Chunk]]] = []
            for lane in self._lanes:
                lane._pack()
                taken.append((lane, lane.chunks))
                lane.chunks = []
            marks, self._marks = self._marks, []
        out: list[SourceEvent] = []
        start = [0] * len(taken)
        for cuts, events in marks:
            if cuts is not None:
                cuts = cuts + [0] * (len(taken) - len(cuts))  # lanes made since
                self._emit(out, taken, start, cuts)
                start = cuts
            out.extend(events)
        self._emit(out, taken, start, [len(chunks) for _, chunks in taken])
        return out

    def _emit(
        self,
        out: list[SourceEvent],
        taken: list[tuple[FrameLane, list[Chunk]]],
        start: Sequence[int],
        end: Sequence[int],
    ) -> None:
        parts = [
            LaneChunks(lane.index, lane.members, chunks[a:b])
            for (lane, chunks), a, b in zip(taken, start, end, strict=True)
            if b > a
        ]
        if parts:
            out.append(build_batch(parts, self.codes))

    def __len__(self) -> int:
        """Frames and events waiting."""
        with self.lock:
            frames = sum(
                len(lane.frames) + len(lane.books) + sum(c.changes + c.books for c in lane.chunks)
                for lane in self._lanes
            )
            return frames + sum(len(events) for _, events in self._marks)
