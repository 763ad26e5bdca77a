"""Retrying HTTP requests: jittered exponential backoff, honouring 429 `Retry-After`.

py-clob-client has no retries at all (docs/polymarket_api.md, gotcha G19); a console that
discovers hundreds of markets at start-up needs them. What is retried: network errors and
timeouts, 5xx, 429. What is not: other 4xx (our request is wrong; retrying repeats the
mistake). A 429 waits exactly what `Retry-After` asks (seconds or an HTTP date), unless that
exceeds `max_retry_after`, in which case we give up at once rather than stall start-up for
minutes.

Jitter: "equal jitter" (half the backoff fixed, half random), so retries from many clients or
tasks spread out but none retries immediately.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from engine.input_bounds import OutOfBounds, bounded_float, shown
from engine.sources.polymarket.errors import PolymarketRequestError

log = logging.getLogger("polyb0t.polymarket.http")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5  # total tries, the first included
    base_seconds: float = 0.5
    max_seconds: float = 30.0
    max_retry_after: float = 120.0

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Delay before retry number `retry` (0-based)."""
        full = min(self.max_seconds, self.base_seconds * (2.0**retry))
        return full / 2.0 + rng.uniform(0.0, full / 2.0)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds to wait: delta-seconds or an HTTP date; None if unusable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, bounded_float(text, math.inf))  # a long wait is refused by the caller
    except OutOfBounds:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _body(resp: httpx.Response) -> str:
    try:
        return shown(resp.text)
    except (UnicodeDecodeError, httpx.ResponseNotRead):  # pragma: no cover - defensive
        return "<unreadable body>"


async def send_with_retry(
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    method: str,
    url: str,
    policy: RetryPolicy,
    rng: random.Random,
    sleep: Sleep = asyncio.sleep,
) -> httpx.Response:
    """Call `send` until it returns a 2xx/3xx response; raise `PolymarketRequestError` when
    it fails for good. `send` is called afresh each attempt (rate limiting inside it)."""
    last = "no attempt made"
    status: int | None = None
    for attempt in range(policy.attempts):
        wait: float | None = None
        try:
            resp = await send()
        except httpx.TransportError as exc:  # connect/read errors and timeouts
            status = None
            last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        else:
            status = resp.status_code
            if status < 400:
                return resp
            last = _body(resp)
            if status == 429:
                wait = retry_after_seconds(resp.headers.get("Retry-After"))
                if wait is not None and wait > policy.max_retry_after:
                    raise PolymarketRequestError(
                        method,
                        url,
                        f"rate limited; Retry-After {wait:.0f} s exceeds the "
                        f"{policy.max_retry_after:.0f} s we wait: {last}",
                        status=status,
                        attempts=attempt + 1,
                    )
            elif status < 500:
                raise PolymarketRequestError(method, url, last, status=status, attempts=attempt + 1)
        if attempt + 1 == policy.attempts:
            break
        delay = wait if wait is not None else policy.backoff(attempt, rng)
        log.info(
            "%s %s: %s; retry %d/%d in %.2f s",
            method,
            url,
            f"HTTP {status}" if status is not None else last,
            attempt + 1,
            policy.attempts - 1,
            delay,
        )
        await sleep(delay)
    raise PolymarketRequestError(method, url, last, status=status, attempts=policy.attempts)
