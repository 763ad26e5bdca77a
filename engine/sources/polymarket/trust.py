"""Which books of one websocket connection can be traded on.

A book is only as good as the unbroken chain of updates since its last snapshot. The chain
breaks when the connection drops or stalls (updates were missed) and when the tick size changes
(levels on the old grid may be gone, Nautilus drops the book: docs/polymarket_api.md §5.4).
Then the market is untrusted (`BookTrust(trusted=False)`, the engine stops trading it) until
every token of it has a fresh snapshot; updates for a token that waits for its snapshot are
dropped (docs/polymarket_api.md, gotcha G12), and so are updates older than the token's last
snapshot (sizes are absolute: a stale one would overwrite a newer level).

One tracker per connection; all tokens of a market live on the same connection.

`fresh_ms` is the whole filter for the common change frame, kept as one number so the
stream checks each frame with one comparison: a frame stamped at or after it passes as it
is. It is out of reach (`NEVER_MS`) while any token awaits a snapshot, else the first
millisecond not older than the newest snapshot; any other frame goes through `keep`, entry
by entry. The third rule, levels only of tokens subscribed here, is applied to the frames
that pass when they are batched (`chunks.build_batch`), against `members`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping

from engine.events import BookSnapshot, BookTrust, PriceChange, SourceEvent, TickSizeChange
from engine.sources.polymarket.frames import ChangeEntry, ChangeFrame

NEVER_MS = 1 << 62  # a `fresh_ms` no frame reaches (a timestamp is at most 1e15)


def first_ms_not_before(seconds: float) -> int:
    """The least integer `m` with `m / 1000.0 >= seconds` (`NEVER_MS` if none; 0 if every
    stamp is): the millisecond stamps `keep` finds not older than a snapshot at `seconds`.

    An int, not a float: comparing an int of 13 digits with a float takes CPython's slow
    path (~350 instructions), and it is done once per frame."""
    if seconds != seconds or seconds * 1000.0 >= NEVER_MS:
        return NEVER_MS
    if seconds <= 0:
        return 0
    m = math.ceil(seconds * 1000.0)
    while (m - 1) / 1000.0 >= seconds:
        m -= 1
    while m / 1000.0 < seconds:
        m += 1
    return m


class TrustTracker:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._market_of: dict[str, str] = {}
        self._tokens_of: dict[str, tuple[str, ...]] = {}
        self._awaiting: set[str] = set()
        self._untrusted: dict[str, str] = {}  # market -> reason last announced
        self._snapshot_ts: dict[str, float] = {}
        self._newest_snapshot = 0.0  # the latest of `_snapshot_ts`
        self.fresh_ms = NEVER_MS  # see the module docstring; kept by `_refresh`
        self.dropped = 0  # updates discarded while waiting for a snapshot, or stale

    def _refresh(self) -> None:
        self.fresh_ms = (
            NEVER_MS
            if self._awaiting or not self._market_of
            else first_ms_not_before(self._newest_snapshot)
        )

    def add(self, market_id: str, tokens: Iterable[str]) -> None:
        """Track a market. Its tokens wait for their first snapshot on this connection, but
        the market is not announced untrusted: its row starts with a REST snapshot or none."""
        toks = tuple(tokens)
        self._tokens_of[market_id] = toks
        for t in toks:
            self._market_of[t] = market_id
            self._awaiting.add(t)
        self._refresh()

    @property
    def members(self) -> Mapping[str, str]:
        """Subscribed token → its market: the live table (read from the engine's thread)."""
        return self._market_of

    @property
    def tokens(self) -> list[str]:
        return list(self._market_of)

    @property
    def awaiting(self) -> set[str]:
        return set(self._awaiting)

    def untrusted(self) -> dict[str, str]:
        return dict(self._untrusted)

    def market_of(self, token: str) -> str | None:
        return self._market_of.get(token)

    def _distrust(self, market_id: str, reason: str, ts: float) -> BookTrust | None:
        if market_id in self._untrusted:
            return None
        self._untrusted[market_id] = reason
        return BookTrust(market_id, ts, False, reason)

    def lost(self, reason: str) -> list[BookTrust]:
        """The feed broke (drop, stall, failed connect): every book needs a new snapshot."""
        ts = self._clock()
        self._awaiting.update(self._market_of)
        self._refresh()
        out = [self._distrust(m, reason, ts) for m in self._tokens_of]
        return [e for e in out if e is not None]

    def invalidate(self, token: str, reason: str) -> list[BookTrust]:
        market = self._market_of.get(token)
        if market is None:
            return []
        self._awaiting.add(token)
        self._refresh()
        ev = self._distrust(market, reason, self._clock())
        return [] if ev is None else [ev]

    def filter(self, events: list[SourceEvent]) -> tuple[list[SourceEvent], list[str]]:
        """Events to forward, trust changes inserted; plus tokens whose tick size changed
        (the caller fetches fresh snapshots for them)."""
        out: list[SourceEvent] = []
        retick: list[str] = []
        awaiting = self._awaiting
        for ev in events:
            if isinstance(ev, PriceChange):
                token = ev.asset_id
                if token in awaiting or ev.ts < self._snapshot_ts.get(token, 0.0):
                    self.dropped += 1
                    continue
                if token not in self._market_of:
                    continue  # not subscribed here (cannot be applied anyway)
                out.append(ev)
            elif isinstance(ev, BookSnapshot):
                known, trusted = self.snapshot(ev.asset_id, ev.ts)
                if known:
                    out.append(ev)
                if trusted is not None:
                    out.append(trusted)
            elif isinstance(ev, TickSizeChange):
                out.append(ev)
                if ev.asset_id in self._market_of:
                    out.extend(self.invalidate(ev.asset_id, "tick size change"))
                    retick.append(ev.asset_id)
            else:
                out.append(ev)
        return out, retick

    def snapshot(self, token: str, ts: float) -> tuple[bool, BookTrust | None]:
        """A snapshot of `token` arrived: (is it subscribed here, so forwarded?, the market's
        "trusted" again if this was the last snapshot it waited for)."""
        market = self._market_of.get(token)
        if market is None:
            return False, None
        awaiting = self._awaiting
        waited = token in awaiting
        awaiting.discard(token)
        self._snapshot_ts[token] = ts
        if ts > self._newest_snapshot:
            self._newest_snapshot = ts
            self._refresh()
        elif waited:
            self._refresh()
        if market in self._untrusted and not any(t in awaiting for t in self._tokens_of[market]):
            del self._untrusted[market]
            return True, BookTrust(market, self._clock(), True, "fresh snapshot")
        return True, None

    def keep(self, frame: ChangeFrame) -> list[ChangeEntry]:
        """The levels of a change frame that `filter` would forward, token by token as it
        does each token's `PriceChange` (and counted in `dropped` the same way)."""
        ts = frame.timestamp / 1000.0
        awaiting, snapshot_ts, market_of = self._awaiting, self._snapshot_ts, self._market_of
        kept: list[ChangeEntry] = []
        dropped: set[str] = set()
        for e in frame.price_changes:
            token = e.asset_id
            if token in awaiting or ts < snapshot_ts.get(token, 0.0):
                dropped.add(token)
            elif token in market_of:
                kept.append(e)
        self.dropped += len(dropped)
        return kept
