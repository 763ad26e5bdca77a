"""The hand-over between the websocket tasks (event loop thread) and `poll` (worker thread).

A lock around a list that `drain` swaps out whole: one lock round trip per batch on each
side, and `poll` gets everything queued so far in arrival order. Book frames (`frames`) are
appended to the open `FrameBatch` at the end of the list, which any other event closes, so
the order of everything is kept; `drain` builds each batch into a `BookBatch` outside the
lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from engine.events import SourceEvent
from engine.sources.polymarket.frames import BookFrame, ChangeFrame, FrameBatch, TokenCodes


class EventQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[SourceEvent | FrameBatch] = []
        self._open: FrameBatch | None = None  # the last item, while frames go into it
        self._codes = TokenCodes()  # read and grown by `drain` only

    def put(self, events: Iterable[SourceEvent]) -> None:
        with self._lock:
            self._open = None
            self._items.extend(events)

    def add_changes(self, frame: ChangeFrame) -> None:
        with self._lock:
            batch = self._open
            if batch is None:
                batch = self._open = FrameBatch()
                self._items.append(batch)
            batch.changes.append(frame)

    def add_book(self, frame: BookFrame) -> None:
        with self._lock:
            batch = self._open
            if batch is None:
                batch = self._open = FrameBatch()
                self._items.append(batch)
            batch.add_book(frame)

    def drain(self) -> list[SourceEvent]:
        with self._lock:
            items, self._items = self._items, []
            self._open = None
        return [i.build(self._codes) if isinstance(i, FrameBatch) else i for i in items]

    def __len__(self) -> int:
        with self._lock:
            return sum(len(i) if isinstance(i, FrameBatch) else 1 for i in self._items)
