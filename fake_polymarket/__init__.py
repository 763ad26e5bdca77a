"""A faithful local fake of Polymarket: Gamma, CLOB REST and the CLOB websockets on 127.0.0.1.

Real HTTP and websocket servers speak Polymarket's wire formats (docs/polymarket_api.md,
checked against the recorded fixtures) over a `SimExchange` world that runs on the fake's own
clock, so the real clients can be exercised end to end without the network: discovery, books,
prices, history, the market and user channels, API keys, signed V2 orders, matching, balances,
and injected faults.

Modules: `server` (start/stop, URLs, threaded runner, CLI entry), `state` (world and clock),
`catalog` (Gamma ids, events, history), `orderbook` (a market's book), `orders` (validation,
matching, accounts), `auth` (creds, HMAC, EIP-712), `wire` (JSON shapes), `gamma_api`,
`clob_api`, `trading_api`, `market_ws`, `user_ws`, `ws_base`, `faults`, `httputil`, `units`,
`records`, `config`.
"""

from fake_polymarket.config import FakeConfig
from fake_polymarket.faults import Faults
from fake_polymarket.server import (
    FakePolymarket,
    FakeUrls,
    ThreadedFakePolymarket,
    describe,
    main_async,
)

__all__ = [
    "FakeConfig",
    "FakePolymarket",
    "FakeUrls",
    "Faults",
    "ThreadedFakePolymarket",
    "describe",
    "main_async",
]
