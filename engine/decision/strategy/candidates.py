"""From P(YES) per market to a short list of trade candidates.

Screening is vectorised: the edge of the first share at the best level, fee included, is an
upper bound on the edge at any size (walking deeper only costs more), so markets failing it
are dropped before any per-market work. Survivors are ranked by that bound and handed to the
risk manager, which sizes them and re-checks the edge after the real book walk.

Long-only per token: bullish means buying YES (or closing a held NO); bearish means buying
NO or closing a held YES. Closing a held token is preferred to buying the other one: it has
the same edge (selling YES at b earns b - fee - p, buying NO at 1 - b earns the same) and
frees capital instead of locking more.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from engine.decision.strategy.base import FloatArray
from engine.models import Market, Outcome, Side
from engine.risk.account import Candidate
from engine.state.book import top_cost_per_share
from engine.state.market_state import MarketState

BoolArray = npt.NDArray[np.bool_]


def top_edges(st: MarketState, p_yes: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Edge of the first share of buying YES (at the ask) and NO (hitting YES bids), fees
    included, per market row. NaN where a side of the book is empty or p is unknown."""
    n = st.n
    rate, exponent = st.fee_rate[:n], st.fee_exponent[:n]
    with np.errstate(invalid="ignore"):
        edge_yes = p_yes - top_cost_per_share(st.ask_px[:n, 0], rate, exponent)
        edge_no = (1.0 - p_yes) - top_cost_per_share(1.0 - st.bid_px[:n, 0], rate, exponent)
    return edge_yes, edge_no


def screen_candidates(
    st: MarketState,
    p_yes: FloatArray,
    eligible: BoolArray,
    now: float,
    threshold: float,
    held: dict[tuple[str, Outcome], float],
    limit: int,
) -> list[Candidate]:
    n = st.n
    ok = eligible & ~np.isnan(p_yes)
    edge_yes, edge_no = top_edges(st, p_yes)
    edge_yes = np.where(ok, edge_yes, -np.inf)
    edge_no = np.where(ok, edge_no, -np.inf)
    best = np.maximum(edge_yes, edge_no)
    rows = np.flatnonzero(best >= threshold)
    order = rows[np.argsort(-best[rows], kind="stable")][:limit]
    # A quiet book is a valid book: Polymarket (and the sim) send nothing while nothing
    # changes. What makes a book untrustworthy is a silent feed, so a candidate's data age
    # is the age of the newest event from the source, not of its own last update.
    feed_age = now - float(np.nanmax(st.book_ts[:n])) if n else float("inf")

    picks: list[tuple[Market, Outcome, Side]] = []
    bullish = (edge_yes[order] >= edge_no[order]).tolist()
    for r, bull in zip(order.tolist(), bullish, strict=True):
        m = st.markets[r]
        buy_outcome = Outcome.YES if bull else Outcome.NO
        # Close the opposite token if we hold it, rather than buying this one.
        opposite = buy_outcome.other
        if held.get((m.market_id, opposite), 0.0) > 0.0:
            picks.append((m, opposite, Side.SELL))
        else:
            picks.append((m, buy_outcome, Side.BUY))
    ladders = st.ladders(order, [o for _, o, _ in picks], [s for _, _, s in picks])
    p_rows = p_yes[order].tolist()
    mids = st.marks_at(order).tolist()
    out: list[Candidate] = []
    for (m, outcome, side), (prices, sizes), p, mid in zip(
        picks, ladders, p_rows, mids, strict=True
    ):
        yes = outcome is Outcome.YES
        out.append(
            Candidate(
                ts=now,
                market=m,
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
