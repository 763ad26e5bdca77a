"""The hidden truth, the traded price's planted effects, and resolutions of the simulated
exchange."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine.config import CATEGORIES, ConfigError, SimSettings, load_settings
from engine.events import MarketResolved, SourceEvent, TradeBatch
from engine.sources.sim import SimExchange, books
from engine.sources.sim import dynamics as dyn
from engine.sources.sim.effects import Effects, Mispricing, thinness
from engine.sources.sim.world import World
from engine.state.market_state import MarketState

START = 1_767_225_600.0
NO_EFFECTS: dict[str, Any] = {
    "effect_zero_share": 0.0,
    "calibration_log_slope_sd": 0.0,
    "longshot_bias_sd": 0.0,
    "news_lag_share_sd": 0.0,
    "jump_overreaction_sd": 0.0,
    "insider_lean_sd": 0.0,
    "price_noise": 0.0,
}


def pinned(**kw: Any) -> SimSettings:
    """Every effect pinned at zero and no noise, but for those given (a `SimSettings` field
    each)."""
    return SimSettings(**{**NO_EFFECTS, **kw})


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


# --- no mispricing ---------------------------------------------------------------------------


def test_without_mispricing_the_mid_is_the_truth_on_the_tick_grid() -> None:
    """`sim.mispricing = false`: the fair price is the truth itself at every step, and the
    book the engine sees is quoted around it: its mid within half a tick of the truth when it
    was requoted this step, within the one-tick requote threshold more otherwise."""
    settings = SimSettings(markets=300, seed=1, mispricing=False)
    ex = SimExchange(settings, START)
    assert not ex.effects.on
    state = MarketState(depth=settings.book_levels)
    for m in ex.discover():
        state.add_market(m)
    w = ex.world
    requoted_seen = 0
    for k in range(151):
        assert state.apply(ex.poll(START + k * settings.step_seconds)).errors == []
        rows = np.flatnonzero(~w.resolved)
        np.testing.assert_array_equal(w.mid[rows], w.truth[rows])
        assert not w.noise.any()
        mids = np.array([state.mid(w.markets[r].market_id) for r in rows])
        tick = w.tick[rows]
        scale = books.scale_of(tick)
        inside = (w.bid_top[rows] > 1) & (w.ask_top[rows] < scale - 1)  # not pinned at 0 or 1
        err = np.abs(mids - w.truth[rows])[inside]
        assert np.all(err <= 1.5 * tick[inside] + 1e-12)
        just = (w.center[rows] == w.mid[rows])[inside]  # requoted at this step's truth
        assert np.all(err[just] <= 0.5 * tick[inside][just] + 1e-12)
        requoted_seen += int(just.sum()) if k else 0
    assert requoted_seen > 300


def test_effects_drawn_as_zero_are_no_effect() -> None:
    ex, _ = run_with_state(pinned(markets=300, seed=1), 150)
    w = ex.world
    rows = np.flatnonzero(~w.resolved)
    np.testing.assert_allclose(w.mid[rows], w.truth[rows], rtol=1e-9, atol=1e-12)
    assert not (w.news_gap.any() or w.jump_gap.any() or w.hidden_z.any())


# --- the priors --------------------------------------------------------------------------------


def test_effects_are_drawn_per_seed_from_priors_holding_zero_and_both_signs() -> None:
    draws = [SimExchange(SimSettings(markets=5, seed=s), START).effects for s in range(40)]
    for name in ("log_slope", "news_share", "longshot", "jump_over", "insider_lean"):
        values = np.concatenate([np.atleast_1d(getattr(e, name)) for e in draws])
        assert (values < 0).any() and (values == 0).any() and (values > 0).any(), name
    again = SimExchange(SimSettings(markets=5, seed=3), START).effects
    np.testing.assert_array_equal(again.log_slope, draws[3].log_slope)
    assert again.insider_lean == draws[3].insider_lean
    assert len({float(e.log_slope.sum()) for e in draws}) == len(draws)
    # the seed's effects do not depend on the world's size (their own random stream)
    bigger = SimExchange(SimSettings(markets=50, seed=3), START).effects
    np.testing.assert_array_equal(bigger.news_share, draws[3].news_share)


def test_a_prior_with_no_spread_pins_its_effect() -> None:
    e = SimExchange(pinned(markets=5, seed=9, longshot_bias_mean=0.4), START).effects
    assert e.longshot == 0.4 and not e.log_slope.any() and e.insider_lean == 0.0


# --- each effect, observable in the prices ---------------------------------------------------


def test_recalibration_slope_per_category_scales_the_price_logit() -> None:
    ex, state = run_with_state(pinned(markets=600, seed=2, calibration_log_slope_sd=0.4), 30)
    w = ex.world
    slopes = np.exp(ex.effects.log_slope)
    assert slopes.min() < 0.85 and slopes.max() > 1.15  # both ways among the categories
    rows, mids, truth = open_rows(ex, state)
    alone = (w.group[rows] < 0) & (np.abs(dyn.logit(truth)) < 8)
    np.testing.assert_allclose(
        w.price_logit[rows][alone],
        slopes[w.category[rows][alone]] * dyn.logit(truth[alone]),
        rtol=1e-6,
        atol=1e-9,
    )
    # and in what the engine sees: per category, logit(book mid) ~ slope x logit(truth)
    for c in range(len(CATEGORIES)):
        sel = alone & (w.category[rows] == c) & (truth > 0.03) & (truth < 0.97)
        x, y = dyn.logit(truth[sel]), dyn.logit(mids[sel])
        assert abs(float(x @ y / (x @ x)) - slopes[c]) < 0.1, CATEGORIES[c]


def test_longshot_bias_grows_as_liquidity_falls_and_can_go_either_way() -> None:
    for bias in (0.6, -0.6):
        ex, state = run_with_state(pinned(markets=1500, seed=3, longshot_bias_mean=bias), 30)
        w = ex.world
        rows, mids, truth = open_rows(ex, state)
        alone = w.group[rows] < 0
        np.testing.assert_allclose(
            w.price_logit[rows][alone],
            np.exp(-bias * thinness(w.liquidity[rows][alone])) * dyn.logit(truth[alone]),
            rtol=1e-6,
            atol=1e-9,
        )
        thin = thinness(w.liquidity[rows])
        longshot = truth < 0.15
        rich = {
            name: float((mids - truth)[longshot & sel].mean())
            for name, sel in (("thin", thin > 0.6), ("deep", thin < 0.3))
        }
        if bias > 0:  # longshots overpriced, more so in thin books
            assert rich["thin"] > rich["deep"] + 0.01 and rich["thin"] > 0.01
        else:
            assert rich["thin"] < rich["deep"] - 0.01 and rich["thin"] < -0.01


def _world(n: int, liquidity: list[float], category: int = 0) -> World:
    """A bare world of `n` stand-alone markets for driving `Mispricing` by hand."""
    w = World(levels=1)
    for name in ("z", "liquidity", *("thin", "price_scale", "news_share", "hidden_z")):
        setattr(w, name, np.zeros(n))
    for name in ("seen_logit", "news_gap", "jump_gap", "insider_tilt"):
        setattr(w, name, np.zeros(n))
    w.liquidity = np.array(liquidity, dtype=np.float64)
    w.category = np.full(n, category, dtype=np.int64)
    return w


def _effects(**kw: float) -> Effects:
    e = Effects.off()
    return Effects(
        log_slope=e.log_slope,
        news_share=np.full(len(CATEGORIES), kw.get("news_share", 0.0)),
        longshot=kw.get("longshot", 0.0),
        jump_over=kw.get("jump_over", 0.0),
        insider_lean=kw.get("insider_lean", 0.0),
    )


def _jump_response(
    effects: Effects, settings: SimSettings, dt: float, liquidity: list[float], jump: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drive `Mispricing` through one jump of `jump` logits at t = 600 s (the truth still
    otherwise): times, the price's score logits and the prints' tilt, per market, each step."""
    n = len(liquidity)
    w = _world(n, liquidity)
    mis = Mispricing(effects, settings)
    inv = np.ones(n)
    mis.init_rows(w, np.arange(n), np.zeros(n))
    times, prices, tilts = [], [], []
    for k in range(1, round(7200 / dt) + 1):
        t = k * dt
        jumps: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64), np.zeros(0))
        if t == 600.0:
            w.z += jump
            jumps = (np.arange(n), np.full(n, jump))
        prices.append(mis.price_scores(w, t, dt, w.z * inv, inv, jumps).copy())
        tilts.append(w.insider_tilt.copy())
        times.append(t)
    return np.array(times), np.array(prices), np.array(tilts)


@pytest.mark.parametrize("dt", [10.0, 60.0])
def test_slow_news_reaction_closes_with_its_time_constant_in_seconds(dt: float) -> None:
    """Of a move, 1 - a reaches the price at once and the late share a closes as
    exp(-t / tau), tau in seconds whatever the step; a < 0 overshoots and reverts so."""
    settings = SimSettings(news_lag_seconds=1800.0)
    for share in (0.8, -0.5):
        times, price, _ = _jump_response(_effects(news_share=share), settings, dt, [1e5], 1.0)
        after = times >= 600.0
        late = share * np.exp(-(times[after] - 600.0) / 1800.0)
        np.testing.assert_allclose(price[after, 0], 1.0 - late, atol=1e-12)
        assert np.all(price[~after, 0] == 0.0)


@pytest.mark.parametrize("dt", [10.0, 60.0])
def test_thin_markets_overreact_to_jumps_and_partly_revert(dt: float) -> None:
    """The excess o x thinness of a jump, reverting with jump_reversal_seconds; the jump
    itself stays. A deep book (thinness 0) takes the jump as it is."""
    settings = SimSettings(jump_reversal_seconds=2400.0)
    times, price, _ = _jump_response(_effects(jump_over=1.0), settings, dt, [500.0, 2e5], 0.8)
    after = times >= 600.0
    excess = 0.8 * np.exp(-(times[after] - 600.0) / 2400.0)
    np.testing.assert_allclose(price[after, 0], 0.8 + excess, atol=1e-12)  # thinness 1
    np.testing.assert_allclose(price[after, 1], 0.8, atol=1e-12)
    assert price[after, 0][-1] > 0.8  # partly reverted: the excess is still going


def test_informed_traders_know_a_jump_for_the_lead_before_the_price_moves() -> None:
    settings = SimSettings(insider_lead_seconds=1800.0)
    for lean in (0.4, -0.4):
        times, price, tilt = _jump_response(_effects(insider_lean=lean), settings, 10.0, [1e4], 1)
        window = (times >= 600.0) & (times < 2400.0)
        assert np.all(price[times < 2400.0, 0] == 0.0)  # the price has not seen it ...
        assert np.all(price[times >= 2400.0, 0] == 1.0)  # ... and takes it whole at the lead
        assert np.all(np.sign(tilt[window, 0]) == np.sign(lean))  # the flow leans meanwhile
        assert np.all(np.abs(tilt[window, 0]) > 0.99 * abs(lean))
        assert not tilt[~window].any()
    _, price, tilt = _jump_response(_effects(), settings, 10.0, [1e4], 1.0)
    assert price[-1, 0] == 1.0 and not tilt.any()  # no informed traders: no lead, no lean


def test_signed_flow_leans_toward_the_move_the_price_has_yet_to_make() -> None:
    """On the exchange itself: prints of markets with a hidden up (down) jump are mostly
    buys (sells), and come more often than elsewhere."""
    for lean in (0.4, -0.4):
        settings = pinned(
            markets=1000, seed=4, insider_lean_mean=lean, jump_rate_per_day=2.0, step_seconds=30
        )
        ex = SimExchange(settings, START, batches=True)
        w = ex.world
        row_of = {m.yes_token: i for i, m in enumerate(w.markets)}
        buys: dict[int, list[bool]] = {1: [], -1: [], 0: []}
        steps = {1: 0, -1: 0, 0: 0}
        for k in range(6 * 120):
            events = ex.poll(START + k * settings.step_seconds)
            sign = np.sign(w.hidden_z)
            for s in (1, -1, 0):
                steps[s] += int((sign[~w.resolved] == s).sum())
            for e in events:
                if isinstance(e, TradeBatch):
                    for tok, b in zip(e.asset_ids, e.buy.tolist(), strict=True):
                        buys[int(sign[row_of[tok]])].append(b)
        up, down, none = (float(np.mean(buys[s])) for s in (1, -1, 0))
        assert min(len(buys[1]), len(buys[-1])) > 1000
        if lean > 0:
            assert up > 0.7 and down < 0.3
        else:
            assert up < 0.3 and down > 0.7
        assert abs(none - 0.5) < 0.03
        rate = {s: len(buys[s]) / steps[s] for s in (1, -1, 0)}
        assert min(rate[1], rate[-1]) > 1.8 * rate[0]  # 1 + 3 x 0.4 / 0.5 = 2.2 times


def test_event_group_mids_sum_to_about_one() -> None:
    ex, state = run_with_state(SimSettings(markets=600, seed=3, event_group_share=0.5), 60)
    w = ex.world
    sums = []
    for members in w.groups:
        rows = members[members >= 0]
        if w.resolved[rows].any():
            continue
        assert np.isclose(w.truth[rows].sum(), 1.0)
        assert np.isclose(dyn.sigmoid(w.price_logit[rows]).sum(), 1.0)
        sums.append(sum(state.mid(w.markets[r].market_id) for r in rows))
    assert len(sums) > 40
    assert np.all(np.abs(np.array(sums) - 1.0) < 0.1)


# --- time constants against the sample interval ------------------------------------------------


def test_time_constants_must_span_three_sample_intervals() -> None:
    short = SimSettings(markets=5, news_lag_seconds=600.0)
    with pytest.raises(ValueError, match=r"sim.news_lag_seconds = 600 s .* 900 s"):
        SimExchange(short, START)
    SimExchange(short, START, sample_interval_seconds=200.0)  # 3 x 200 = 600: allowed
    SimExchange(short.model_copy(update={"mispricing": False}), START)  # nothing to learn
    with pytest.raises(ConfigError, match="insider_lead_seconds"):
        load_settings(overrides={"ml": {"sample_interval_seconds": 1200.0}})
    assert load_settings(
        overrides={"source": "polymarket", "ml": {"sample_interval_seconds": 1200.0}}
    )


# --- the truth and resolutions -------------------------------------------------------------------


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


def test_truth_at_gives_the_open_markets_hidden_probabilities() -> None:
    ex = SimExchange(SimSettings(markets=300, seed=7, step_seconds=3600), START)
    for k in range(24 * 5):
        ex.poll(START + k * 3600.0)
    ids, values = ex.truth_at(START + 24 * 5 * 3600.0)
    w = ex.world
    assert w.resolved.any() and len(ids) == int((~w.resolved).sum())
    assert set(ids) == {m.market_id for m in ex.discover()}
    for market_id, v in zip(ids, values.tolist(), strict=True):
        assert v == ex.true_probability(market_id)
    values[:] = -1.0  # a copy: the world's truth is untouched
    assert 0.0 < ex.true_probability(ids[0]) < 1.0


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
