"""Market-channel frames → `SourceEvent`s (docs/polymarket_api.md §5.3–§5.4).

`parse_ws_message(raw)` is the strict entry point: any malformed event raises
`PolymarketParseError`. The stream uses `MarketChannelParser.parse`, which returns the good
events of a frame together with the errors, so one bad event in an initial dump of 200 books
costs one book, not 200.

Mapping:
- `book` → `BookSnapshot` (levels best first); `price_change` (all three layouts) → one
  `PriceChange` per asset, in message order; `last_trade_price` → `TradePrint`;
  `tick_size_change` → `TickSizeChange`; `new_market` → `MarketListed` when binary (others
  ignored: we only trade binary markets); `market_resolved` → `MarketResolved`.
- `best_bid_ask` carries no sizes, so it changes no book: ignored. `PONG` and unknown event
  types: ignored.
Timestamps are Polymarket's milliseconds, converted to seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from engine.events import (
    LevelChange,
    MarketListed,
    MarketResolved,
    PriceChange,
    SourceEvent,
    TickSizeChange,
    TradePrint,
)
from engine.models import Market
from engine.sources.polymarket.categories import categorise
from engine.sources.polymarket.errors import PolymarketParseError
from engine.sources.polymarket.fields import to_float
from engine.sources.polymarket.outcomes import yes_index
from engine.sources.polymarket.parse_gamma import DEFAULT_TICK
from engine.sources.polymarket.wire import (
    WireBook,
    WireMarketResolved,
    WireMessage,
    WireNewMarket,
    WirePriceChange,
    WireTickSize,
    WireTrade,
    decode_frame,
    snapshot_from_wire,
)


def _price_changes(msg: WirePriceChange) -> list[PriceChange]:
    ts = msg.timestamp / 1000.0
    if msg.price_changes is not None:
        by_asset: dict[str, list[LevelChange]] = {}
        for e in msg.price_changes:
            if e.size is not None:
                by_asset.setdefault(e.asset_id, []).append(LevelChange(e.side, e.price, e.size))
        return [PriceChange(a, ts, tuple(ch)) for a, ch in by_asset.items()]
    if not msg.asset_id:
        raise PolymarketParseError.bad("price_change.asset_id", "missing (no price_changes[])")
    if msg.changes is not None:
        changes = tuple(
            LevelChange(c.side, c.price, c.size) for c in msg.changes if c.size is not None
        )
    elif msg.price is not None and msg.side is not None and msg.size is not None:
        changes = (LevelChange(msg.side, msg.price, msg.size),)
    else:
        raise PolymarketParseError.bad(
            "price_change", "no price_changes[], changes[] or price/side/size"
        )
    return [PriceChange(msg.asset_id, ts, changes)] if changes else []


def listed_market(msg: WireNewMarket) -> Market | None:
    """The `Market` a `new_market` announces, or None if it is not binary.

    The message has no end date, volume or fee flags: `end_ts` is NaN (never eligible until
    Gamma fills it in; `PolymarketSource` does) and the fee rate 0 until then.
    """
    tokens = msg.clob_token_ids if msg.clob_token_ids else msg.assets_ids
    market_id = msg.market or msg.condition_id
    if len(tokens) != 2 or len(msg.outcomes) != 2 or not market_id:
        return None
    yi = yes_index(msg.outcomes)
    tick = DEFAULT_TICK
    if msg.order_price_min_tick_size not in ("", None):
        tick = to_float(msg.order_price_min_tick_size, "new_market.order_price_min_tick_size")
        if not 0.0 < tick < 1.0:
            raise PolymarketParseError.bad(
                "new_market.order_price_min_tick_size", "outside (0, 1)", tick
            )
    ts = msg.timestamp / 1000.0
    info = msg.event_message
    return Market(
        market_id=market_id,
        question=msg.question,
        category=categorise(msg.tags),
        yes_token=tokens[yi],
        no_token=tokens[1 - yi],
        created_ts=ts,
        end_ts=math.nan,
        tick_size=tick,
        event_id=(info.id or None) if info is not None and msg.group_item_title else None,
        accepting_orders=msg.active,
        description=msg.description,
    )


def resolution(msg: WireMarketResolved, known: Mapping[str, Market] | None) -> MarketResolved:
    """YES payout from `winning_asset_id`: against the market we know if we know it (its YES
    token is authoritative), else by the outcome labels, else by position (first = YES)."""
    market_id = msg.market or msg.condition_id
    if not market_id:
        raise PolymarketParseError.bad("market_resolved.market", "missing")
    ts = msg.timestamp / 1000.0
    winner = msg.winning_asset_id
    market = known.get(market_id) if known is not None else None
    if market is not None:
        if winner not in (market.yes_token, market.no_token):
            raise PolymarketParseError.bad(
                "market_resolved.winning_asset_id", "not a token of the market", winner
            )
        return MarketResolved(market_id, ts, 1.0 if winner == market.yes_token else 0.0)
    if msg.assets_ids:
        if winner not in msg.assets_ids or len(msg.assets_ids) != 2:
            raise PolymarketParseError.bad(
                "market_resolved.winning_asset_id", "not one of two assets_ids", winner
            )
        yi = yes_index(msg.outcomes) if len(msg.outcomes) == 2 else 0
        return MarketResolved(market_id, ts, 1.0 if winner == msg.assets_ids[yi] else 0.0)
    label = msg.winning_outcome.strip().lower()
    if label in ("yes", "no"):
        return MarketResolved(market_id, ts, 1.0 if label == "yes" else 0.0)
    raise PolymarketParseError.bad("market_resolved", "cannot tell which outcome is YES")


def wire_to_events(
    items: list[WireMessage], known: Mapping[str, Market] | None = None
) -> tuple[list[SourceEvent], list[PolymarketParseError]]:
    events: list[SourceEvent] = []
    errors: list[PolymarketParseError] = []
    for msg in items:
        try:
            if isinstance(msg, WirePriceChange):
                events.extend(_price_changes(msg))
            elif isinstance(msg, WireBook):
                events.append(snapshot_from_wire(msg))
            elif isinstance(msg, WireTrade):
                events.append(
                    TradePrint(msg.asset_id, msg.timestamp / 1000.0, msg.price, msg.size, msg.side)
                )
            elif isinstance(msg, WireTickSize):
                old = msg.old_tick_size if msg.old_tick_size is not None else math.nan
                events.append(
                    TickSizeChange(msg.asset_id, msg.timestamp / 1000.0, old, msg.new_tick_size)
                )
            elif isinstance(msg, WireNewMarket):
                market = listed_market(msg)
                if market is not None:
                    events.append(MarketListed(market, msg.timestamp / 1000.0))
            elif isinstance(msg, WireMarketResolved):
                events.append(resolution(msg, known))
            # WireBestBidAsk: no book change (see module docstring)
        except PolymarketParseError as exc:
            errors.append(exc)
    return events, errors


class MarketChannelParser:
    """Frame → events with the context the stream has: the markets it subscribed to."""

    def __init__(self, known: Mapping[str, Market] | None = None) -> None:
        self.known = known

    def parse(self, raw: bytes | str) -> tuple[list[SourceEvent], list[PolymarketParseError]]:
        items, errors = decode_frame(raw)
        events, more = wire_to_events(items, self.known)
        return events, [*errors, *more]


def parse_ws_message(
    raw: bytes | str, known: Mapping[str, Market] | None = None
) -> list[SourceEvent]:
    """One market-channel text frame → events; raises on the first malformed event.

    `known` (market id → `Market`) makes `market_resolved` use the market's own YES token.
    """
    events, errors = MarketChannelParser(known).parse(raw)
    if errors:
        raise errors[0]
    return events
