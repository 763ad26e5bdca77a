"""Client-side throttling to stay inside Polymarket's documented request limits.

Polymarket counts requests in sliding 10-second windows per endpoint group and first delays,
then 429s, whoever exceeds them (https://docs.polymarket.com/api-reference/rate-limits, as
docs/polymarket_api.md §2.8, §4.9 and gotcha G19 summarise it). A token bucket with capacity C
and rate r admits at most C + r·W requests in any window W. We set r = share·limit/W and C =
r·1 s, so even the worst window stays under the limit (share 0.9 → 0.99 of it) while a burst of
one second's worth still goes out at once.

Buckets are async and reservation based: a caller takes its token now (the count may go
negative) and sleeps until the bucket would have refilled, so concurrent callers queue in
arrival order without a lock or a polling loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    def __init__(
        self,
        rate: float,
        capacity: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be > 0")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = capacity
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def reserve(self, tokens: float = 1.0) -> float:
        """Take `tokens` now; the seconds to wait before using them (0 if available)."""
        self._refill()
        self._tokens -= tokens
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    async def acquire(self, tokens: float = 1.0) -> float:
        """Wait until `tokens` may be spent; returns the seconds waited."""
        wait = self.reserve(tokens)
        if wait > 0:
            await self._sleep(wait)
        return wait


@dataclass(frozen=True, slots=True)
class Limit:
    requests: int
    window_seconds: float = 10.0


# docs/polymarket_api.md §2.8 (Gamma) and §4.9 (CLOB public endpoints). Group names are ours.
GAMMA_LIMITS: Mapping[str, Limit] = {
    "gamma": Limit(4_000),  # every Gamma request
    "gamma:listing": Limit(900),  # /markets + /events together
    "gamma:markets": Limit(300),
    "gamma:events": Limit(500),
    "gamma:tags": Limit(200),
    "gamma:search": Limit(350),
}
CLOB_LIMITS: Mapping[str, Limit] = {
    "clob": Limit(9_000),  # every CLOB request
    "clob:book": Limit(1_500),
    "clob:books": Limit(500),
    "clob:price": Limit(1_500),
    "clob:midpoint": Limit(1_500),
    "clob:prices-history": Limit(1_000),
    "clob:tick-size": Limit(200),
}


class EndpointLimiter:
    """One bucket per endpoint group; a request waits for every group it belongs to."""

    def __init__(
        self,
        limits: Mapping[str, Limit],
        *,
        share: float = 0.9,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError("share must be in (0, 1]")
        self._sleep = sleep
        self.buckets: dict[str, TokenBucket] = {}
        for name, lim in limits.items():
            rate = share * lim.requests / lim.window_seconds
            self.buckets[name] = TokenBucket(rate, max(1.0, rate), clock=clock, sleep=sleep)

    async def acquire(self, *groups: str) -> float:
        """Wait for one token of each named group (unknown names are an error: a typo would
        silently disable throttling). Returns the seconds waited."""
        waits = []
        for g in groups:
            bucket = self.buckets.get(g)
            if bucket is None:
                raise KeyError(f"no rate limit group {g!r}")
            waits.append(bucket.reserve())
        wait = max(waits, default=0.0)
        if wait > 0:
            await self._sleep(wait)
        return wait
