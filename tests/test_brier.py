"""Brier scoring of the model and the market on resolved markets (engine/decision/brier.py)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.decision.brier import BrierScore
from engine.events import MarketResolved
from tests.state_factories import T0, book, market, state_with


def test_each_resolution_scores_the_model_and_the_last_sampled_mid() -> None:
    a, b = market(1), market(2)
    st = state_with([a, b], [book(a, 0.59, 0.61), book(b, 0.29, 0.31)])
    st.record_history(T0)  # mids 0.60 and 0.30
    scores = BrierScore()
    assert scores.model is None and scores.market is None
    scores.score(
        st,
        np.array([0.9, 0.2]),
        [MarketResolved(a.market_id, T0, 1.0), MarketResolved(b.market_id, T0, 0.0)],
    )
    assert scores.count == 2
    assert scores.model == pytest.approx(((0.9 - 1) ** 2 + 0.2**2) / 2)
    assert scores.market == pytest.approx(((0.6 - 1) ** 2 + 0.3**2) / 2)


def test_a_market_without_both_prices_is_not_scored() -> None:
    a, b, c = market(1), market(2), market(3)
    st = state_with([a, b, c], [book(a, 0.59, 0.61), book(b, 0.29, 0.31)])
    scores = BrierScore()
    # no history sample yet: the market's price is unknown
    scores.score(st, np.array([0.9, 0.2, 0.5]), [MarketResolved(a.market_id, T0, 1.0)])
    assert scores.count == 0
    st.record_history(T0)
    scores.score(
        st,
        np.array([np.nan, 0.2]),  # the model never priced a, nor row 2 (c)
        [
            MarketResolved(a.market_id, T0, 1.0),
            MarketResolved(c.market_id, T0, 1.0),  # c has no book: a NaN mid as well
            MarketResolved("0xunknown", T0, 1.0),
            MarketResolved(b.market_id, T0, 1.0),
        ],
    )
    assert scores.count == 1
    assert scores.model == pytest.approx(0.8**2)
    assert scores.market == pytest.approx(0.7**2)
