"""Typed source events: what a `MarketSource` emits (the sim, the Polymarket websocket, a
replay).

They mirror Polymarket's market channel (book, price_change, last_trade_price,
tick_size_change, market_resolved, new_market) but are already parsed: floats, not strings,
and book levels best-first (Polymarket sends bids ascending, so best is last; the parser
normalises that once at the edge). What the engine shows consoles is not an event stream but
a change-marked view (`engine.feed.view`), pulled a few times a second.

Book arrays are numpy float64, best level first. Book events name a token (`asset_id`);
`MarketState` maps the NO token's book onto the YES orientation (a NO bid at p is a YES ask
at 1 - p), because Polymarket matches the two books as mirrors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.models import Market, Side

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


# --- source events -------------------------------------------------------------------------


@dataclass(slots=True)
class BookSnapshot:
    """Full L2 book for one token (replaces what was held)."""

    asset_id: str
    ts: float
    bid_px: FloatArray  # best (highest) first
    bid_sz: FloatArray
    ask_px: FloatArray  # best (lowest) first
    ask_sz: FloatArray
    book_hash: str = ""


@dataclass(slots=True)
class BookBatch:
    """Whole books of many tokens at one time, as matrices: one event for every book a step
    changed, from a source that knows each book's every level (the simulator), instead of
    one object per book or per level change. Applying it is a few array writes however many
    books it holds, which is what lets a simulated month run in minutes.

    Row i is token `asset_ids[i]`'s book: `bid_px[i, :bid_n[i]]` best first (sizes alike),
    the rest NaN prices and 0 sizes. Tokens are distinct within a batch.
    """

    ts: float
    asset_ids: tuple[str, ...]
    bid_px: FloatArray  # (books, levels)
    bid_sz: FloatArray
    bid_n: IntArray  # (books,) levels present
    ask_px: FloatArray
    ask_sz: FloatArray
    ask_n: IntArray


@dataclass(slots=True, frozen=True)
class LevelChange:
    side: Side  # BUY = bid level, SELL = ask level
    price: float
    size: float  # new total size resting at that price; 0 removes the level


@dataclass(slots=True)
class PriceChange:
    """Incremental book update: each change sets the total size at one price level."""

    asset_id: str
    ts: float
    changes: tuple[LevelChange, ...]


@dataclass(slots=True)
class TradePrint:
    """A trade on the exchange (Polymarket `last_trade_price`)."""

    asset_id: str
    ts: float
    price: float
    size: float
    side: Side  # aggressor side


@dataclass(slots=True)
class TradeBatch:
    """Many trade prints at one time, in print order, as arrays (the simulator's trades of
    one step): row i is a print on token `asset_ids[i]` at `price[i]` for `size[i]`
    shares, the aggressor buying where `buy[i]`."""

    ts: float
    asset_ids: tuple[str, ...]
    price: FloatArray
    size: FloatArray
    buy: npt.NDArray[np.bool_]


@dataclass(slots=True)
class TickSizeChange:
    asset_id: str
    ts: float
    old_tick: float
    new_tick: float


@dataclass(slots=True)
class MarketListed:
    """A new market appeared (Polymarket `new_market`, or discovery)."""

    market: Market
    ts: float


@dataclass(slots=True)
class MarketResolved:
    market_id: str
    ts: float
    payout_yes: float  # 1.0 if YES won, 0.0 if NO won (fractional for rare 50/50 finals)


@dataclass(slots=True)
class BookTrust:
    """Whether the books of a market can be traded on.

    A network source marks a market untrusted when its feed stalls, reconnects, or a tick
    size change invalidates the held levels, and trusted again after a fresh snapshot.
    The engine never trades an untrusted book (universe rule `book_trusted`).
    """

    market_id: str
    ts: float
    trusted: bool
    reason: str = ""


SourceEvent = (
    BookSnapshot
    | BookBatch
    | PriceChange
    | TradePrint
    | TradeBatch
    | TickSizeChange
    | MarketListed
    | MarketResolved
    | BookTrust
)
