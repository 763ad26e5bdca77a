"""From P(YES) per market to a short list of trade candidates.

Screening is vectorised: the edge of the first share at the best level, fee included, is an
upper bound on the edge at any size (walking deeper only costs more), so markets failing it
are dropped before any per-market work. Survivors are ranked by that bound and handed to the
risk manager, which sizes them and re-checks the edge after the real book walk.

Long-only per token: bullish means buying YES (or closing a held NO); bearish means buying
NO or closing a held YES. Closing a held token is preferred to buying the other one: it has
the same edge (selling YES at b earns b - fee - p, buying NO at 1 - b earns the same) and
frees capital instead of locking more.

Exits come first: every held token whose bid, after the fee, pays more than the model
thinks it is worth (`EdgeThresholds.exit`, lower than the entry threshold) is a SELL
candidate, whether or not its market would still pass the universe's entry filters. Without
them the strategy bought until its caps bound and then only watched.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from engine.decision.strategy.base import FloatArray
from engine.models import Outcome, Side
from engine.risk.account import Candidate
from engine.risk.thresholds import EdgeThresholds
from engine.state.book import top_cost_per_share
from engine.state.market_state import MarketState

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def top_edges(
    st: MarketState, p_yes: FloatArray, rows: IntArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Edge of the first share of buying YES (at the ask) and NO (hitting YES bids), fees
    included, per market row (of `rows` only, when given). NaN where a side of the book is
    empty or p is unknown."""
    pick: IntArray | slice = slice(0, st.n) if rows is None else rows
    rate, exponent = st.fee_rate[pick], st.fee_exponent[pick]
    p = p_yes[: st.n] if rows is None else p_yes[rows]
    with np.errstate(invalid="ignore"):
        edge_yes = p - top_cost_per_share(st.ask_px[pick, 0], rate, exponent)
        edge_no = (1.0 - p) - top_cost_per_share(1.0 - st.bid_px[pick, 0], rate, exponent)
    return edge_yes, edge_no


def screen_candidates(
    st: MarketState,
    p_yes: FloatArray,
    eligible: BoolArray,
    now: float,
    thresholds: EdgeThresholds | float,
    held: dict[tuple[str, Outcome], float],
    limit: int,
) -> list[Candidate]:
    """Exits first (held tokens the model no longer thinks worth their bid, best first),
    then entries (eligible markets whose first share clears the entry threshold, best
    first), `limit` in all."""
    n = st.n
    t = EdgeThresholds.of(thresholds)
    # A quiet book is a valid book: Polymarket (and the sim) send nothing while nothing
    # changes. What makes a book untrustworthy is a silent feed, so a candidate's data age
    # is the age of the newest event from the source, not of its own last update.
    feed_age = now - float(np.nanmax(st.book_ts[:n])) if n else float("inf")
    picks = _exits(st, p_yes, held, t.exit)[:limit]
    ok = np.flatnonzero(eligible & ~np.isnan(p_yes))  # edges of these rows only
    edge_yes, edge_no = top_edges(st, p_yes, ok)
    best = np.maximum(edge_yes, edge_no)  # NaN (a side of the book empty) never passes
    keep = best >= t.entry
    rows, best = ok[keep], best[keep]
    by_edge = np.argsort(-best, kind="stable")
    order = rows[by_edge]
    bullish = (edge_yes[keep][by_edge] >= edge_no[keep][by_edge]).tolist()
    for r, bull in zip(order.tolist(), bullish, strict=True):
        if len(picks) >= limit:
            break
        m = st.markets[r]
        outcome = Outcome.YES if bull else Outcome.NO
        # Holding the other token: selling it is the same idea at the same edge (selling
        # YES at b earns b - fee - p, buying NO at 1 - b the same) and frees capital
        # instead of locking more; the exits above already list it.
        if held.get((m.market_id, outcome.other), 0.0) <= 0.0:
            picks.append((r, outcome, Side.BUY))
    return _priced(st, p_yes, picks, now, feed_age)


def _exits(
    st: MarketState, p_yes: FloatArray, held: dict[tuple[str, Outcome], float], exit_edge: float
) -> list[tuple[int, Outcome, Side]]:
    """Held tokens whose best bid, after the taker fee, pays at least `exit_edge` over the
    model's probability of them, best first. Only markets open and with a trusted book: an
    exit is priced on the book, but the universe's entry filters (spread, depth, time left)
    never trap a position."""
    found: list[tuple[float, int, Outcome]] = []
    for (market_id, outcome), shares in held.items():
        r = st.row(market_id)
        if not shares > 0.0 or r is None or not (st.active[r] and st.trusted[r]):
            continue
        p = float(p_yes[r]) if r < p_yes.size else math.nan
        if outcome is Outcome.YES:
            bid = float(st.bid_px[r, 0])
        else:
            bid, p = 1.0 - float(st.ask_px[r, 0]), 1.0 - p
        if bid != bid or p != p:  # no bid to sell into, or no view of the market
            continue
        edge = st.markets[r].fees.unit_proceeds(bid) - p
        if edge >= exit_edge - 1e-12:
            found.append((edge, r, outcome))
    found.sort(key=lambda e: -e[0])
    return [(r, outcome, Side.SELL) for _, r, outcome in found]


def _priced(
    st: MarketState,
    p_yes: FloatArray,
    picks: list[tuple[int, Outcome, Side]],
    now: float,
    feed_age: float,
) -> list[Candidate]:
    """The picks as candidates, each with the ladder its order would walk (one gather)."""
    if not picks:
        return []
    rows = np.array([r for r, _, _ in picks], dtype=np.int64)
    ladders = st.ladders(rows, [o for _, o, _ in picks], [s for _, _, s in picks])
    p_rows = p_yes[rows].tolist()
    mids = st.marks_at(rows).tolist()
    out: list[Candidate] = []
    for (r, outcome, side), (prices, sizes), p, mid in zip(
        picks, ladders, p_rows, mids, strict=True
    ):
        yes = outcome is Outcome.YES
        out.append(
            Candidate(
                ts=now,
                market=st.markets[r],
                outcome=outcome,
                side=side,
                p_model=p if yes else 1.0 - p,
                p_market=mid if yes else 1.0 - mid,
                prices=prices,
                sizes=sizes,
                book_age=feed_age,
            )
        )
    return out
