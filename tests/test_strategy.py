"""Baseline rules and candidate screening (long-only: bearish buys NO or closes YES)."""

from __future__ import annotations

import numpy as np

from engine.config import StrategySettings
from engine.decision.features import Features
from engine.decision.strategy.baseline import BaselinePredictor
from engine.decision.strategy.candidates import screen_candidates
from engine.models import Outcome, Side
from tests.state_factories import T0, book, market, state_with


def _features(
    mid: list[float], micro: list[float] | None = None, ret: list[float] | None = None
) -> Features:
    n = len(mid)
    return Features(
        ts=T0,
        columns={
            "mid": np.array(mid),
            "microprice": np.array(micro if micro is not None else mid),
            "ret_last": np.array(ret if ret is not None else [0.0] * n),
        },
    )


def test_baseline_with_all_rules_off_returns_the_mid() -> None:
    p = BaselinePredictor(
        StrategySettings(microprice_weight=0, longshot_correction=0, move_shrinkage=0)
    )
    np.testing.assert_allclose(p.predict(_features([0.2, 0.5, 0.9])), [0.2, 0.5, 0.9])


def test_longshot_correction_lowers_longshots_and_raises_favourites() -> None:
    p = BaselinePredictor(
        StrategySettings(microprice_weight=0, longshot_correction=0.2, move_shrinkage=0)
    )
    out = p.predict(_features([0.1, 0.5, 0.9]))
    assert out[0] < 0.1 and abs(out[1] - 0.5) < 1e-12 and out[2] > 0.9


def test_recent_move_is_partly_shrunk() -> None:
    p = BaselinePredictor(
        StrategySettings(microprice_weight=0, longshot_correction=0, move_shrinkage=0.5)
    )
    out = p.predict(_features([0.6], ret=[0.1]))
    assert abs(out[0] - 0.55) < 1e-12


def test_prediction_never_claims_certainty() -> None:
    p = BaselinePredictor(StrategySettings())
    out = p.predict(_features([0.999, 0.001]))
    assert out.max() <= 0.99 and out.min() >= 0.01


def test_screen_picks_the_right_side_and_ranks_by_edge() -> None:
    cheap, dear, fair = market(0), market(1), market(2)
    st = state_with(
        [cheap, dear, fair],
        [
            book(cheap, 0.30, 0.32),
            book(dear, 0.68, 0.70),
            book(fair, 0.49, 0.51),
        ],
    )
    p = np.array([0.45, 0.50, 0.50])
    eligible = np.ones(3, dtype=bool)
    cands = screen_candidates(st, p, eligible, T0 + 5, 0.05, {}, 10)
    assert [(c.market.market_id, c.outcome, c.side) for c in cands] == [
        (dear.market_id, Outcome.NO, Side.BUY),  # edge 0.5 - 0.32 - fee
        (cheap.market_id, Outcome.YES, Side.BUY),  # edge 0.45 - 0.32 - fee
    ]
    assert abs(cands[0].p_model - 0.5) < 1e-12 and cands[0].prices[0] == 1 - 0.68
    assert cands[0].book_age == 5


def test_bearish_with_yes_held_closes_yes_instead_of_buying_no() -> None:
    m = market(0)
    st = state_with([m], [book(m, 0.68, 0.70)])
    held = {(m.market_id, Outcome.YES): 20.0}
    cands = screen_candidates(st, np.array([0.5]), np.ones(1, bool), T0, 0.05, held, 10)
    assert len(cands) == 1
    c = cands[0]
    assert (c.outcome, c.side) == (Outcome.YES, Side.SELL)
    assert c.prices[0] == 0.68  # walking the YES bids


def test_ineligible_or_unpredicted_markets_are_never_candidates() -> None:
    a, b = market(0), market(1)
    st = state_with([a, b], [book(a, 0.30, 0.32), book(b, 0.30, 0.32)])
    p = np.array([0.9, np.nan])
    assert screen_candidates(st, p, np.array([False, True]), T0, 0.05, {}, 10) == []


def test_fee_is_part_of_the_screen() -> None:
    m = market(0, fee_rate=0.5)  # absurd fee: 0.5 * 0.32 * 0.68 = 0.109 per share
    st = state_with([m], [book(m, 0.30, 0.32)])
    assert screen_candidates(st, np.array([0.45]), np.ones(1, bool), T0, 0.05, {}, 10) == []
