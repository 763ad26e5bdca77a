"""The hidden truth, the traded price's biases, and resolutions of the simulated exchange."""

from __future__ import annotations

import numpy as np

from engine.config import CATEGORIES, SimSettings
from engine.events import MarketResolved, SourceEvent
from engine.sources.sim import SimExchange
from engine.sources.sim import dynamics as dyn
from engine.state.market_state import MarketState

START = 1_767_225_600.0
UNBIASED = {"favourite_longshot_bias": 0.0, "price_noise": 0.0, "slow_categories": []}


def run_with_state(settings: SimSettings, steps: int) -> tuple[SimExchange, MarketState]:
    ex = SimExchange(settings, START)
    state = MarketState(depth=settings.book_levels)
    for m in ex.discover():
        state.add_market(m)
    for k in range(steps + 1):
        assert state.apply(ex.poll(START + k * settings.step_seconds)).errors == []
    return ex, state


def open_rows(ex: SimExchange, state: MarketState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(world rows, market-state mids, truths) of the markets still open."""
    w = ex.world
    rows = np.flatnonzero(~w.resolved)
    mids = np.array([state.mid(w.markets[r].market_id) for r in rows])
    return rows, mids, w.truth[rows]


def test_mid_tracks_truth_with_biases_and_noise_off() -> None:
    ex, state = run_with_state(SimSettings(markets=300, seed=1, **UNBIASED), 150)
    rows, mids, truth = open_rows(ex, state)
    err = np.abs(mids - truth)
    tick = ex.world.tick[rows]
    assert err.mean() < 0.006
    assert np.all(err < 2.5 * tick + 0.01)  # within the quoting hysteresis and the last move


def test_longshots_trade_above_truth_and_favourites_below() -> None:
    ex, state = run_with_state(SimSettings(markets=1000, seed=2), 30)
    _, mids, truth = open_rows(ex, state)
    longshot = truth < 0.2
    favourite = truth > 0.8
    assert longshot.sum() > 100 and favourite.sum() > 50
    assert (mids[longshot] - truth[longshot]).mean() > 0.01
    assert (mids[favourite] - truth[favourite]).mean() < -0.01
    # and the strategy's correction sigmoid(logit(p) / (1 - b)) undoes it for stand-alones
    b = ex.settings.favourite_longshot_bias
    w = ex.world
    alone = (w.group < 0) & ~w.resolved
    p = dyn.sigmoid(w.price_logit[alone] / (1 - b))
    assert np.abs(p - w.truth[alone]).mean() < 0.01


def test_without_bias_longshots_are_not_overpriced() -> None:
    settings = SimSettings(markets=1000, seed=2, favourite_longshot_bias=0.0)
    ex, state = run_with_state(settings, 30)
    _, mids, truth = open_rows(ex, state)
    longshot = truth < 0.2
    assert abs((mids[longshot] - truth[longshot]).mean()) < 0.005


def test_event_group_mids_sum_to_about_one() -> None:
    ex, state = run_with_state(SimSettings(markets=600, seed=3, event_group_share=0.5), 60)
    w = ex.world
    sums = []
    for members in w.groups:
        rows = members[members >= 0]
        if w.resolved[rows].any():
            continue
        assert np.isclose(w.truth[rows].sum(), 1.0)
        sums.append(sum(state.mid(w.markets[r].market_id) for r in rows))
    assert len(sums) > 40
    assert np.all(np.abs(np.array(sums) - 1.0) < 0.1)


def test_slow_categories_lag_the_truth() -> None:
    settings = SimSettings(
        markets=800,
        seed=4,
        favourite_longshot_bias=0.0,
        price_noise=0.0,
        slow_categories=["politics"],
        slow_reaction=0.05,
    )
    ex = SimExchange(settings, START)
    lag: dict[bool, list[float]] = {True: [], False: []}
    w = ex.world
    politics = w.category == CATEGORIES.index("politics")
    for k in range(80):
        ex.poll(START + k * settings.step_seconds)
        live = ~w.resolved
        gap = np.abs(dyn.sigmoid(w.price_logit) - w.truth)
        lag[True].append(float(gap[politics & live].mean()))
        lag[False].append(float(gap[~politics & live].mean()))
    assert np.mean(lag[True]) > 3 * np.mean(lag[False])


def test_resolutions_come_at_end_dates_and_follow_the_truth() -> None:
    settings = SimSettings(markets=400, seed=5, step_seconds=3600, new_listings_per_day=0)
    ex = SimExchange(settings, START)
    w = ex.world
    ex.poll(START)
    before: list[float] = []
    paid: list[float] = []
    winners: dict[str, list[float]] = {}
    done: set[str] = set()
    done_tokens: set[str] = set()
    for k in range(1, 24 * 40):
        truth_before = w.truth.copy()
        events: list[SourceEvent] = ex.poll(START + k * settings.step_seconds)
        for e in events:
            if isinstance(e, MarketResolved):
                r = w.index[e.market_id]
                m = w.markets[r]
                assert m.end_ts <= e.ts < m.end_ts + settings.step_seconds
                assert e.payout_yes in (0.0, 1.0)
                assert ex.true_probability(e.market_id) == e.payout_yes
                before.append(float(truth_before[r]))
                paid.append(e.payout_yes)
                if m.event_id is not None:
                    winners.setdefault(m.event_id, []).append(e.payout_yes)
                done.add(e.market_id)
                done_tokens.add(m.yes_token)
            else:
                assert getattr(e, "asset_id", None) not in done_tokens
    assert len(paid) > 200
    p, y = np.array(before), np.array(paid)
    assert y[p > 0.9].mean() > 0.85
    assert y[p < 0.1].mean() < 0.15
    assert all(sum(v) == 1.0 for v in winners.values())  # exactly one winner per event
    assert len(winners) > 10
    assert {m.market_id for m in ex.discover()}.isdisjoint(done)


def test_resolved_market_emits_nothing_afterwards() -> None:
    settings = SimSettings(markets=200, seed=6, step_seconds=600)
    ex = SimExchange(settings, START)
    resolved_tokens: set[str] = set()
    for k in range(6 * 24 * 3):
        for e in ex.poll(START + k * settings.step_seconds):
            assert getattr(e, "asset_id", None) not in resolved_tokens
            if isinstance(e, MarketResolved):
                resolved_tokens.add(ex.world.markets[ex.world.index[e.market_id]].yes_token)
    assert resolved_tokens


def test_group_truth_is_a_softmax_and_scores_converge_at_the_end() -> None:
    lg = np.array([0.0, 1.0, 2.0, 0.5, -3.0])
    groups = np.array([[0, 1, 2, -1, -1, -1]], dtype=np.int64)
    p = dyn.truth(lg, groups)
    assert np.isclose(p[:3].sum(), 1.0)
    np.testing.assert_allclose(p[:3], np.exp(lg[:3]) / np.exp(lg[:3]).sum())
    np.testing.assert_allclose(p[3:], 1 / (1 + np.exp(-lg[3:])))
    # the same score means more certainty as the end nears
    far, near = dyn.score_logits(np.array([1000.0, 1000.0]), np.array([86400.0 * 30, 60.0]), 0)
    assert abs(near) > 10 * abs(far)


def test_tick_rule_has_hysteresis() -> None:
    tick = np.array([0.01, 0.01, 0.001, 0.001, 0.001, 0.01])
    mid = np.array([0.97, 0.045, 0.955, 0.5, 0.03, 0.5])
    np.testing.assert_array_equal(dyn.next_tick(mid, tick), [0.001, 0.01, 0.001, 0.01, 0.001, 0.01])
