"""Fault injection: the failures a Polymarket client must survive, switchable at runtime.

Every fault is a method on `Faults` that a test calls while the server runs, and `clear()`
undoes them all. HTTP faults are rules matched by service ("gamma" / "clob"), method and path
prefix, each with a hit count (None: until cleared); the server's middleware consults them on
every request. Websocket faults act on live connections through the hubs that attach here.

- `http_error(status, ...)`, `rate_limit(...)`: 5xx / 429 bursts (429 carries Retry-After);
- `malformed_json(...)`, `truncated_json(...)`: a 200 whose body does not parse;
- `slow(seconds, ...)`: responses delayed;
- `timeout_after_accept(seconds)`: `POST /order(s)` is recorded and matched, its answer held
  back past the client's timeout (the client cannot know whether the order exists);
- `drop_ws()`: connections cut without a close frame (the client sees 1006);
- `stall_ws()`: connections stay open but nothing more is sent, not even `PONG`;
  `stall_new_ws` keeps stalling connections made later; `asset=` stalls only the sockets
  subscribed to that asset, `answer_pings=True` keeps their `PONG`s coming (market data
  stops, pings are still answered: the stall only a silence watchdog can see);
- `corrupt_ws(...)`: the next messages arrive malformed or truncated.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from aiohttp import web
from aiohttp.typedefs import Middleware

Corruption = Literal["malformed", "truncated"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_ERROR_TEXT = {
    429: "Too Many Requests",
    500: "Internal server error",
    503: "Trading is currently disabled. Check polymarket.com for updates",
}


def corrupt(text: str, how: Corruption) -> str:
    """`text` made unparseable: brackets swapped (malformed) or cut in half (truncated)."""
    if how == "truncated":
        return text[: max(1, len(text) // 2)]
    return ("[" if text.startswith("{") else "{") + text[1:]


class Hub(Protocol):
    def drop_all(self) -> None: ...

    def stall_all(self, asset: str | None = None, *, answer_pings: bool = False) -> int: ...


@dataclass(slots=True)
class HttpRule:
    kind: Literal["status", "corrupt", "delay"]
    count: int | None  # hits left; None = until cleared
    service: str | None = None
    path: str = ""
    method: str | None = None
    status: int = 500
    retry_after: float | None = None
    corruption: Corruption = "malformed"
    delay_s: float = 0.0

    def matches(self, service: str, method: str, path: str) -> bool:
        return (
            (self.count is None or self.count > 0)
            and (self.service is None or self.service == service)
            and (self.method is None or self.method == method)
            and path.startswith(self.path)
        )


@dataclass(slots=True)
class Faults:
    """Runtime switches for every fault; shared by the server's apps and websocket hubs."""

    rules: list[HttpRule] = field(default_factory=list)
    accept_delay_s: float = 0.0
    accept_delay_count: int | None = 0
    stall_new_ws: set[str] = field(default_factory=set)  # channels whose new sockets stall
    ws_corrupt: dict[str, tuple[int, Corruption]] = field(default_factory=dict)
    hubs: dict[str, Hub] = field(default_factory=dict)

    # --- HTTP ---------------------------------------------------------------------------------

    def _add(self, rule: HttpRule) -> HttpRule:
        self.rules.append(rule)
        return rule

    def http_error(
        self,
        status: int = 500,
        count: int | None = 1,
        *,
        retry_after: float | None = None,
        service: str | None = None,
        path: str = "",
        method: str | None = None,
    ) -> HttpRule:
        return self._add(
            HttpRule("status", count, service, path, method, status=status, retry_after=retry_after)
        )

    def rate_limit(
        self,
        count: int | None = 1,
        retry_after: float = 1.0,
        *,
        service: str | None = None,
        path: str = "",
        method: str | None = None,
    ) -> HttpRule:
        return self.http_error(
            429, count, retry_after=retry_after, service=service, path=path, method=method
        )

    def malformed_json(
        self, count: int | None = 1, *, service: str | None = None, path: str = ""
    ) -> HttpRule:
        return self._add(HttpRule("corrupt", count, service, path, corruption="malformed"))

    def truncated_json(
        self, count: int | None = 1, *, service: str | None = None, path: str = ""
    ) -> HttpRule:
        return self._add(HttpRule("corrupt", count, service, path, corruption="truncated"))

    def slow(
        self,
        seconds: float,
        count: int | None = None,
        *,
        service: str | None = None,
        path: str = "",
        method: str | None = None,
    ) -> HttpRule:
        return self._add(HttpRule("delay", count, service, path, method, delay_s=seconds))

    def timeout_after_accept(self, seconds: float, count: int | None = 1) -> None:
        self.accept_delay_s = seconds
        self.accept_delay_count = count

    def take_accept_delay(self) -> float:
        """Delay to hold an accepted order's answer, consuming one hit."""
        if self.accept_delay_count is not None:
            if self.accept_delay_count <= 0:
                return 0.0
            self.accept_delay_count -= 1
        return self.accept_delay_s

    def _take(self, service: str, method: str, path: str) -> list[HttpRule]:
        hits = [r for r in self.rules if r.matches(service, method, path)]
        for r in hits:
            if r.count is not None:
                r.count -= 1
        self.rules = [r for r in self.rules if r.count is None or r.count > 0]
        return hits

    def middleware(self, service: str) -> Middleware:
        @web.middleware
        async def apply(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.headers.get("Upgrade", "").lower() == "websocket":
                return await handler(request)
            hits = self._take(service, request.method, request.path)
            delay = sum(r.delay_s for r in hits if r.kind == "delay")
            if delay:
                await asyncio.sleep(delay)
            for r in hits:
                if r.kind == "status":
                    return _error_response(r)
            response = await handler(request)
            for r in hits:
                if r.kind == "corrupt" and isinstance(response, web.Response) and response.text:
                    return web.Response(
                        status=response.status,
                        text=corrupt(response.text, r.corruption),
                        content_type="application/json",
                    )
            return response

        return apply

    # --- websockets ---------------------------------------------------------------------------

    def drop_ws(self, channel: str | None = None) -> None:
        for name, hub in self.hubs.items():
            if channel in (None, name):
                hub.drop_all()

    def stall_ws(
        self,
        channel: str | None = None,
        *,
        new_connections: bool = False,
        asset: str | None = None,
        answer_pings: bool = False,
    ) -> int:
        """Stall live sockets (those subscribed to `asset`, if given); how many were."""
        stalled = 0
        for name, hub in self.hubs.items():
            if channel in (None, name):
                stalled += hub.stall_all(asset, answer_pings=answer_pings)
                if new_connections:
                    self.stall_new_ws.add(name)
        return stalled

    def corrupt_ws(
        self, count: int = 1, how: Corruption = "malformed", channel: str = "market"
    ) -> None:
        self.ws_corrupt[channel] = (count, how)

    def take_ws_corruption(self, channel: str) -> Corruption | None:
        left, how = self.ws_corrupt.get(channel, (0, "malformed"))
        if left <= 0:
            return None
        self.ws_corrupt[channel] = (left - 1, how)
        return how

    def clear(self) -> None:
        """Switch every fault off (live stalled sockets stay stalled: reconnect to recover)."""
        self.rules.clear()
        self.accept_delay_s = 0.0
        self.accept_delay_count = 0
        self.stall_new_ws.clear()
        self.ws_corrupt.clear()


def _error_response(rule: HttpRule) -> web.Response:
    headers = {}
    if rule.retry_after is not None:
        headers["Retry-After"] = str(math.ceil(rule.retry_after))
    text = _ERROR_TEXT.get(rule.status, "Internal server error")
    return web.Response(
        status=rule.status,
        text=json.dumps({"error": text}),
        content_type="application/json",
        headers=headers,
    )
