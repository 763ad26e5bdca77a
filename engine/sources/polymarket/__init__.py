"""The live Polymarket market-data source: Gamma REST, public CLOB REST, market websocket.

Modules (each one concern):
- parsing: `fields` (Polymarket's loose types), `outcomes` (YES token, settlement),
  `categories` (category and fee rate), `parse_gamma`, `parse_clob`, `wire` (the websocket
  wire structs and the one frame decoder), `parse_ws` (frames → `SourceEvent`s), `frames`
  (the engine path's decoders of `price_change`/`book` frames), `chunks` (those frames
  packed into columns, then one `BookBatch`), `l2` (full-depth books straight from the
  decoder, without an engine);
- transport: `ratelimit` (token buckets per endpoint group), `retry` (backoff, Retry-After),
  `rest` (throttle + retry + decode), `gamma` and `clob_rest` (the clients), `ws`
  (sharded market streams), `stall` (is a connection stalled), `trust` (which books may be
  traded), `stale` (none from a connection silent past `stale_after_seconds`), `eventqueue`
  (each connection's lane of book frames, and the events, to `poll`);
- `source` (`PolymarketSource`, the `MarketSource`) and `settings`.

Every parser raises `PolymarketParseError` (a `ValueError`) naming the field at fault.
"""

from engine.config import PolymarketSettings
from engine.sources.polymarket.clob_rest import ClobRestClient
from engine.sources.polymarket.errors import PolymarketParseError, PolymarketRequestError
from engine.sources.polymarket.gamma import EventQuery, GammaClient, MarketQuery
from engine.sources.polymarket.l2 import L2Book, L2Books
from engine.sources.polymarket.parse_clob import (
    ClobMarketsPage,
    PriceHistory,
    parse_book,
    parse_books,
    parse_clob_market,
    parse_clob_markets_page,
    parse_fee_rate,
    parse_midpoint,
    parse_neg_risk,
    parse_price,
    parse_prices_history,
    parse_server_time,
    parse_spread,
    parse_tick_size,
)
from engine.sources.polymarket.parse_gamma import (
    GammaEvent,
    GammaSearch,
    GammaTag,
    SkippedMarket,
    parse_gamma_event,
    parse_gamma_events,
    parse_gamma_market,
    parse_gamma_markets,
    parse_gamma_search,
    parse_gamma_tags,
)
from engine.sources.polymarket.parse_ws import MarketChannelParser, parse_ws_message
from engine.sources.polymarket.ratelimit import EndpointLimiter, TokenBucket
from engine.sources.polymarket.retry import RetryPolicy
from engine.sources.polymarket.source import PolymarketSource
from engine.sources.polymarket.wire import decode_frame
from engine.sources.polymarket.ws import MarketStream, MarketStreams

__all__ = [
    "ClobMarketsPage",
    "ClobRestClient",
    "EndpointLimiter",
    "EventQuery",
    "GammaClient",
    "GammaEvent",
    "GammaSearch",
    "GammaTag",
    "L2Book",
    "L2Books",
    "MarketChannelParser",
    "MarketQuery",
    "MarketStream",
    "MarketStreams",
    "PolymarketParseError",
    "PolymarketRequestError",
    "PolymarketSettings",
    "PolymarketSource",
    "PriceHistory",
    "RetryPolicy",
    "SkippedMarket",
    "TokenBucket",
    "decode_frame",
    "parse_book",
    "parse_books",
    "parse_clob_market",
    "parse_clob_markets_page",
    "parse_fee_rate",
    "parse_gamma_event",
    "parse_gamma_events",
    "parse_gamma_market",
    "parse_gamma_markets",
    "parse_gamma_search",
    "parse_gamma_tags",
    "parse_midpoint",
    "parse_neg_risk",
    "parse_price",
    "parse_prices_history",
    "parse_server_time",
    "parse_spread",
    "parse_tick_size",
    "parse_ws_message",
]
