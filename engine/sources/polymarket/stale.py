"""No book from a connection silent for longer than `stale_after_seconds` is ever traded.

The stall detector (`stall.py`) runs on the event loop and may be late or wrong: a starved
loop, a connection that looks merely quiet, a bug. This guard does not depend on it. Every
engine step, inside `PolymarketSource.poll` (the engine's worker thread), it compares each
connection's last market-data frame with the monotonic clock; a connection silent for
longer than `stale_after_seconds` has its markets marked untrusted (`BookTrust`), in the
very batch the step applies before it sizes anything, and trusted again as soon as the
connection delivers data. It costs one subtraction per connection per step (50 at 10,000
markets); only a change of state walks a connection's markets.

The engine holds one trust flag per market, which two authorities now write: each
connection's `TrustTracker` (a gap in the chain of updates: trusted again only after a fresh
snapshot) and this guard. The guard keeps a mirror of the trackers' verdicts as they pass
through, holds back a tracker's "trusted" for a market of a stale connection, and on
recovery re-trusts only the markets whose tracker trusts them: untrusted while either says so.

Ordering, across threads: a stream sets `last_data` only after the frame's events are
queued, and appends to `market_ids` only after the market's listing is queued; the guard
reads both before draining the queue. So whatever it reads is backed by events it drains in
the same call: it never re-trusts a market ahead of the tracker's own "untrusted" for it,
nor names a market the engine has not been told of. Its events follow the drained ones.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from engine.events import BookTrust, SourceEvent

log = logging.getLogger("polyb0t.polymarket")


class Feed(Protocol):
    """What the guard reads of a connection (`ws.MarketStream`), from another thread."""

    @property
    def name(self) -> str: ...

    @property
    def last_data(self) -> float:
        """Monotonic time of the last market-data frame (or of the connection's creation)."""
        ...

    @property
    def market_ids(self) -> list[str]:
        """Markets on this connection, in the order added; only ever appended to."""
        ...


class StaleGuard:
    def __init__(self, stale_after: float, monotonic: Callable[[], float]) -> None:
        self.stale_after = stale_after
        self._now = monotonic
        self._flagged: dict[Feed, int] = {}  # feed -> how many of its markets were flagged
        self._stale: set[str] = set()  # markets untrusted by the guard
        self._feed_untrusted: set[str] = set()  # markets the trackers last said untrusted

    def poll(
        self, feeds: Sequence[Feed], drain: Callable[[], list[SourceEvent]], ts: float
    ) -> list[SourceEvent]:
        """`drain()`'s events, trackers' trust folded in, then the guard's own changes
        (stamped `ts`)."""
        now = self._now()
        seen = [(f, now - f.last_data, len(f.market_ids)) for f in feeds]
        out = self._fold(drain())
        for feed, silent, n in seen:
            if silent > self.stale_after:
                out.extend(self._went_stale(feed, silent, n, ts))
            elif feed in self._flagged:
                out.extend(self._recovered(feed, ts))
        return out

    def is_stale(self, market_id: str) -> bool:
        return market_id in self._stale

    def _fold(self, events: list[SourceEvent]) -> list[SourceEvent]:
        if not self._stale and not any(isinstance(e, BookTrust) for e in events):
            return events
        out: list[SourceEvent] = []
        for ev in events:
            if isinstance(ev, BookTrust):
                if ev.trusted:
                    self._feed_untrusted.discard(ev.market_id)
                    if ev.market_id in self._stale:
                        continue  # trusted again when its connection is no longer silent
                else:
                    self._feed_untrusted.add(ev.market_id)
            out.append(ev)
        return out

    def _went_stale(self, feed: Feed, silent: float, n: int, ts: float) -> list[SourceEvent]:
        done = self._flagged.get(feed)
        start = 0 if done is None else done
        if start >= n:
            return []
        self._flagged[feed] = n
        fresh = feed.market_ids[start:n]
        self._stale.update(fresh)
        reason = f"stale: no market data for {silent:.1f} s"
        out: list[SourceEvent] = [
            BookTrust(m, ts, False, reason) for m in fresh if m not in self._feed_untrusted
        ]
        if done is None:
            log.warning(
                "polymarket: ws %s silent %.1f s (stale_after_seconds %g): %d of %d markets "
                "untrusted until it delivers again",
                feed.name,
                silent,
                self.stale_after,
                len(out),
                n,
            )
        return out

    def _recovered(self, feed: Feed, ts: float) -> list[SourceEvent]:
        n = self._flagged.pop(feed)
        ids = feed.market_ids[:n]
        self._stale.difference_update(ids)
        out: list[SourceEvent] = [
            BookTrust(m, ts, True, "feed live again") for m in ids if m not in self._feed_untrusted
        ]
        log.info(
            "polymarket: ws %s delivers again: %d of %d markets trusted", feed.name, len(out), n
        )
        return out
