"""The two ways talking to Polymarket fails: a payload we cannot read, a request that failed.

`PolymarketParseError` is a `ValueError` so callers that already treat bad input as a value
problem (the engine's `MarketState.apply`, the stream's per-frame guard) catch it without
knowing this package. Its message always names the field and what was wrong with it, because
the first thing anyone does with a parse failure in a log is look for the field.
"""

from __future__ import annotations

from typing import Any

from engine.input_bounds import shown


class PolymarketParseError(ValueError):
    """A Polymarket payload is not in the shape we rely on.

    `field` is the dotted path of the offending field when one is known (None for a payload
    that is not JSON at all).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    @classmethod
    def bad(cls, field: str, problem: str, value: Any = None) -> PolymarketParseError:
        got = "" if value is None else f" (got {shown(value)})"
        return cls(f"{field}: {problem}{got}", field)


class PolymarketRequestError(RuntimeError):
    """An HTTP request to Polymarket failed for good (after retries, or not retryable).

    `status` is the last HTTP status seen, None when the network itself failed.
    """

    def __init__(
        self,
        method: str,
        url: str,
        detail: str,
        *,
        status: int | None = None,
        attempts: int = 1,
    ) -> None:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        code = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"{method} {url} failed{tries}{code}: {detail}")
        self.method = method
        self.url = url
        self.status = status
        self.attempts = attempts
        self.detail = detail
