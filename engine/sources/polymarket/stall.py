"""Is one market-websocket connection stalled? Pure bookkeeping over an injected clock.

Polymarket feeds are known to stall with the socket still open (docs/polymarket_api.md, gotcha
G12): nothing arrives, and a frozen book looks exactly like a quiet one. Two signs give a stall
away, and either suffices:

- a text `PING` that nothing answers within `ws_pong_timeout_seconds`. Any frame counts as
  the answer (data proves the socket alive as well as a `PONG` does). With a `PING` every
  `ws_ping_seconds`, a stall that swallows `PONG`s too is seen within their sum;
- market data silent for longer than the connection's recent activity makes likely: more
  than `ws_silence_factor` times the mean gap of the last `GAPS` frames, and more than twice
  the longest of them (a feed that comes in bursts has long quiet spells that are not
  stalls), at least `ws_silence_min_seconds`, at most `ws_stall_seconds`. Until `GAPS_MIN`
  gaps are known, the upper bound alone applies. `PONG`s do not count: a stalled feed may
  keep answering pings.

The stream (`ws.MarketStream`) asks `check` and `ping_due` at each wake-up and sleeps until
`next_wake`, so detection is as prompt as the deadlines, not a polling period. Times are
seconds on one monotonic clock; one detector serves one connection at a time (`start`
begins a session afresh: the silence of a previous connection says nothing of this one).
"""

from __future__ import annotations

from collections import deque

from engine.config import PolymarketSettings

GAPS = 32  # data gaps remembered for the silence estimate
GAPS_MIN = 8  # fewer than this: too little to judge by, the upper bound applies
BURST_FACTOR = 2.0  # silence must also exceed this multiple of the longest recent gap


class StallDetector:
    def __init__(self, settings: PolymarketSettings) -> None:
        self.ping_seconds = settings.ws_ping_seconds
        self.pong_timeout = settings.ws_pong_timeout_seconds
        self.factor = settings.ws_silence_factor
        self.lowest = settings.ws_silence_min_seconds
        self.highest = settings.ws_stall_seconds
        self._gaps: deque[float] = deque(maxlen=GAPS)
        self._gap_sum = 0.0
        self._since = 0.0  # session start, or the last data frame
        self._had_data = False
        self._next_ping = 0.0
        self._unanswered: float | None = None  # when the oldest unanswered PING went out

    def start(self, now: float) -> None:
        """A new connection, subscribed at `now`: the first PING is due a period later."""
        self._gaps.clear()
        self._gap_sum = 0.0
        self._since = now
        self._had_data = False
        self._next_ping = now + self.ping_seconds
        self._unanswered = None

    # --- what arrives and leaves -----------------------------------------------------------

    def on_data(self, now: float) -> None:
        if self._had_data:
            gap = max(now - self._since, 0.0)
            if len(self._gaps) == GAPS:
                self._gap_sum -= self._gaps[0]
            self._gaps.append(gap)
            self._gap_sum += gap
        self._had_data = True
        self._since = now
        self._unanswered = None

    def on_pong(self, now: float) -> None:
        self._unanswered = None

    def ping_due(self, now: float) -> bool:
        return now >= self._next_ping

    def on_ping(self, now: float) -> None:
        if self._unanswered is None:
            self._unanswered = now
        self._next_ping = now + self.ping_seconds

    # --- verdict ---------------------------------------------------------------------------

    def silence_limit(self) -> float:
        """How long market data may pause before it counts as a stall."""
        n = len(self._gaps)
        if n < GAPS_MIN:
            return self.highest
        likely = max(self.factor * self._gap_sum / n, BURST_FACTOR * max(self._gaps))
        return min(self.highest, max(self.lowest, likely))

    def silent_for(self, now: float) -> float:
        """Seconds since the last market data of this session (or since it began)."""
        return max(now - self._since, 0.0)

    def check(self, now: float) -> str | None:
        """Why the connection counts as stalled at `now`, or None while it does not."""
        # Deadlines compared as `next_wake` computes them: waking at one finds it passed.
        if self._unanswered is not None and now >= self._unanswered + self.pong_timeout:
            return f"no PONG {now - self._unanswered:.1f} s after PING"
        limit = self.silence_limit()
        if now >= self._since + limit:
            return f"no market data for {self.silent_for(now):.1f} s (limit {limit:.1f} s)"
        return None

    def next_wake(self) -> float:
        """The earliest time `check` or `ping_due` can change its answer without a frame."""
        wake = min(self._next_ping, self._since + self.silence_limit())
        if self._unanswered is not None:
            wake = min(wake, self._unanswered + self.pong_timeout)
        return wake
