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
BoolArray = npt.NDArray[np.bool_]


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
class WholeBooks:
    """Whole books of many tokens at one time, as matrices: from a source that knows each
    book's every level (the simulator), one event for every book a step changed. Unlike a
    `BookBatch` (the wire's snapshots and level changes, as columns), a book here is
    complete and already ordered, so the state can take its rows as they are: a few array
    writes however many books, which is what lets a simulated month run in minutes.

    Row i is token `asset_ids[i]`'s book: `bid_px[i, :bid_n[i]]` best first (sizes alike),
    the rest NaN prices and 0 sizes. Tokens are distinct within an event.
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


@dataclass(slots=True, eq=False)
class BookBatch:
    """Many book events (snapshots and level changes of many tokens) as columns.

    Why: at hundreds of thousands of level changes a second, one Python object per change
    costs more than decoding the wire did; a batch is a handful of arrays that
    `MarketState` applies with array operations, and recomputes each touched book's top
    levels once per batch instead of once per change.

    Meaning, exactly that of the events it stands for, taken in order: `frame_ts` has one
    entry per event ("frame", in arrival order). A snapshot (`snap_*`) replaces the whole
    book of its token's market at its frame, with the levels of that frame; the levels of
    other frames are `PriceChange` levels. Levels may be stored in any order of frames;
    within one frame they apply in array order (the last of two at one price wins).
    Prices are in the token's own orientation, as on the wire.
    """

    tokens: list[str]  # the batch's tokens; every `*_token` column indexes this list
    frame_ts: FloatArray  # seconds, per frame
    snap_frame: IntArray  # per snapshot: its frame
    snap_token: IntArray
    level_frame: IntArray  # per level: its frame
    level_token: IntArray
    level_bid: BoolArray  # a BUY (bid) level of its token, else an ask
    level_price: FloatArray
    level_size: FloatArray  # the new total at that price; 0 removes the level

    @property
    def ts(self) -> float:
        """The latest frame's time: when the batch was complete (recording, replay)."""
        return float(self.frame_ts.max()) if self.frame_ts.size else 0.0

    def __len__(self) -> int:
        return int(self.frame_ts.size)


SourceEvent = (
    BookBatch
    | WholeBooks
    | BookSnapshot
    | PriceChange
    | TradePrint
    | TradeBatch
    | TickSizeChange
    | MarketListed
    | MarketResolved
    | BookTrust
)
