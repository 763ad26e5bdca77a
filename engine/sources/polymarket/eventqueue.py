"""The hand-over between the websocket tasks (event loop thread) and `poll` (worker thread).

A lock around a list that `drain` swaps out whole: one lock round trip per batch on each
side, and `poll` gets everything queued so far in arrival order.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from engine.events import SourceEvent


class EventQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[SourceEvent] = []

    def put(self, events: Iterable[SourceEvent]) -> None:
        with self._lock:
            self._items.extend(events)

    def drain(self) -> list[SourceEvent]:
        with self._lock:
            items, self._items = self._items, []
        return items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
