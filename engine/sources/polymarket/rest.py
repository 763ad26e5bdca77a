"""One JSON-over-HTTP call path for the Gamma and CLOB clients: throttle, retry, decode.

Both clients take an `httpx.AsyncClient` from the caller (the source owns it; tests pass one
on an `httpx.MockTransport`) and a base URL, so the hosts are configuration, not code.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import msgspec

from engine.input_bounds import OutOfBounds, decode_json, shown
from engine.sources.polymarket.errors import PolymarketParseError
from engine.sources.polymarket.ratelimit import EndpointLimiter
from engine.sources.polymarket.retry import RetryPolicy, Sleep, send_with_retry

Params = Mapping[str, str | int | float | bool | Sequence[str] | None]
QueryPair = tuple[str, str | int | float | bool | None]


def query(params: Params) -> list[QueryPair]:
    """httpx query pairs: None dropped, booleans as `true`/`false` (what Gamma parses),
    sequences as repeated keys (`clob_token_ids` must repeat, docs/polymarket_api.md §2.2)."""
    out: list[QueryPair] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        elif isinstance(value, str | int | float):
            out.append((key, str(value)))
        else:
            out.extend((key, str(v)) for v in value)
    return out


class JsonApi:
    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        limiter: EndpointLimiter,
        policy: RetryPolicy,
        *,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter
        self.policy = policy
        self._rng = rng if rng is not None else random.Random()
        self._sleep = sleep

    async def call(
        self,
        method: str,
        path: str,
        groups: tuple[str, ...],
        *,
        params: Params | None = None,
        body: Any = None,
    ) -> Any:
        """The decoded JSON of a successful response.

        Raises `PolymarketRequestError` when the request fails for good and
        `PolymarketParseError` when a 2xx body is not JSON, or nests deeper than
        `input_bounds.MAX_DEPTH` (not retried: the server answered, and asking again returns
        the same page).
        """
        url = f"{self.base_url}{path}"
        pairs = query(params) if params else None
        content = msgspec.json.encode(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None

        async def send() -> httpx.Response:
            await self.limiter.acquire(*groups)
            return await self.http.request(
                method, url, params=pairs, content=content, headers=headers
            )

        resp = await send_with_retry(
            send, method=method, url=url, policy=self.policy, rng=self._rng, sleep=self._sleep
        )
        try:
            return decode_json(resp.content)
        except (msgspec.DecodeError, OutOfBounds) as exc:
            raise PolymarketParseError(
                f"{method} {path}: response is not valid JSON ({exc}): {shown(resp.content)}"
            ) from None
