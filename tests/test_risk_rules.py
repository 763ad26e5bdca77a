"""Each risk rule alone (allow, resize, deny and its reason), then the manager that runs them."""

from __future__ import annotations

import math

import pytest

from engine.config import RiskSettings
from engine.ids import IdGen
from engine.models import Outcome, Side
from engine.risk import rules
from engine.risk.account import AccountView, Candidate
from engine.risk.manager import RiskManager
from engine.risk.rules import RuleContext, Verdict
from engine.risk.sizing import edge_limit
from tests.risk_factories import NOW, account, candidate, market, risk

THRESHOLD = 0.05


def ctx(
    c: Candidate | None = None,
    acct: AccountView | None = None,
    settings: RiskSettings | None = None,
    shares: float = math.inf,
) -> RuleContext:
    c = c or candidate()
    limit = edge_limit(c.prices, c.sizes, c.side, c.p_model, c.market.fees, THRESHOLD)
    return RuleContext(c, acct or account(), settings or risk(), THRESHOLD, limit, shares)


def manager(**settings: object) -> RiskManager:
    return RiskManager(risk(**settings), THRESHOLD, IdGen("t"))


def sell_candidate(p_model: float = 0.40, **kw: object) -> Candidate:
    """Closing a held YES: bids 0.50/0.49/0.48, model says the token is worth 0.40."""
    return candidate(
        p_model=p_model,
        side=Side.SELL,
        prices=[0.50, 0.49, 0.48],
        sizes=[100.0, 100.0, 100.0],
        **kw,  # type: ignore[arg-type]
    )


# --- gates ---------------------------------------------------------------------------------


def test_stale_data_denies_a_book_older_than_the_limit() -> None:
    assert rules.stale_data(ctx(candidate(book_age=30.0))) == Verdict("allow")
    v = rules.stale_data(ctx(candidate(book_age=130.0)))
    assert v == Verdict("deny", 0.0, "book 130s old > 120s")


def test_stale_data_treats_a_book_never_seen_as_stale() -> None:
    assert rules.stale_data(ctx(candidate(book_age=math.nan))).action == "deny"


def test_market_open_denies_resolved_and_closed_markets() -> None:
    assert rules.market_open(ctx()).action == "allow"
    resolved = rules.market_open(ctx(candidate(market(resolved=True))))
    assert resolved.detail == "market resolved"
    closed = rules.market_open(ctx(candidate(market(accepting_orders=False))))
    assert closed.detail == "market not accepting orders"


def test_cooldown_denies_a_market_traded_recently_with_time_left() -> None:
    recent = account(last_action_ts={"m1": NOW - 188.0})
    assert rules.cooldown(ctx(acct=recent)) == Verdict("deny", 0.0, "412s left")
    old = account(last_action_ts={"m1": NOW - 601.0})
    assert rules.cooldown(ctx(acct=old)).action == "allow"
    other_market = account(last_action_ts={"m2": NOW})
    assert rules.cooldown(ctx(acct=other_market)).action == "allow"


def test_duplicate_denies_the_same_market_outcome_side_in_flight() -> None:
    busy = account(open_keys={("m1", Outcome.YES, Side.BUY)})
    assert rules.duplicate(ctx(acct=busy)).detail == "BUY YES already in flight"
    assert rules.duplicate(ctx(candidate(outcome=Outcome.NO), busy)).action == "allow"


# --- sizing --------------------------------------------------------------------------------


def test_holdings_sizes_a_sell_to_every_share_held_and_never_more() -> None:
    held = account(held={("m1", Outcome.YES): 37.456})
    v = rules.holdings(ctx(sell_candidate(), held))
    assert v == Verdict("resize", 37.45, "selling the 37.45 shares held")


def test_holdings_denies_a_sell_without_shares() -> None:
    v = rules.holdings(ctx(sell_candidate(), account()))
    assert v == Verdict("deny", 0.0, "no YES shares held")


def test_kelly_sizing_denies_without_edge_at_top_of_book() -> None:
    v = rules.kelly_sizing(ctx(candidate(p_model=0.45)))
    assert v == Verdict("deny", 0.0, "no edge at top of book: p 0.450 <= cost 0.500")


def test_kelly_sizing_denies_an_empty_book() -> None:
    assert rules.kelly_sizing(ctx(candidate(prices=[], sizes=[]))).detail == "no asks"


def test_kelly_sizing_resizes_to_the_fractional_kelly_size() -> None:
    v = rules.kelly_sizing(ctx(candidate(p_model=0.56)))
    assert v.action == "resize"
    assert v.shares == pytest.approx(60.0)


# --- caps ----------------------------------------------------------------------------------


def test_max_position_counts_existing_exposure_in_the_market() -> None:
    # Cap $50; $30 already in m1 leaves $20 = 40 shares at 0.50.
    acct = account(exposure_by_market={"m1": 30.0}, total_exposure=30.0)
    v = rules.max_position(ctx(acct=acct, shares=100.0))
    assert v == Verdict("resize", 40.0, "100.00 -> 40.00 shares (market room 20.00)")
    assert rules.max_position(ctx(acct=acct, shares=40.0)).action == "allow"


def test_max_position_denies_a_market_already_at_its_cap() -> None:
    acct = account(exposure_by_market={"m1": 50.0})
    v = rules.max_position(ctx(acct=acct, shares=10.0))
    assert v == Verdict("deny", 0.0, "market 50.00 already at cap 50.00")


def test_max_total_exposure_caps_the_sum_over_markets() -> None:
    acct = account(total_exposure=590.0)  # cap 600: $10 = 20 shares
    v = rules.max_total_exposure(ctx(acct=acct, shares=100.0))
    assert (v.action, v.shares) == ("resize", 20.0)
    full = rules.max_total_exposure(ctx(acct=account(total_exposure=600.0), shares=1.0))
    assert full.action == "deny"


def test_max_event_exposure_caps_an_event_group_and_ignores_lone_markets() -> None:
    grouped = candidate(market(event_id="e1"))
    acct = account(exposure_by_event={"e1": 140.0})  # cap $150: 20 shares
    v = rules.max_event_exposure(ctx(grouped, acct, shares=100.0))
    assert v == Verdict("resize", 20.0, "100.00 -> 20.00 shares (event e1 room 10.00)")
    assert rules.max_event_exposure(ctx(candidate(), acct, shares=100.0)).action == "allow"


def test_cash_rule_sizes_against_cash_left_after_reserved() -> None:
    # $100 cash, $90 already promised to open orders and pending intents: $10 = 20 shares.
    acct = account(equity=1_000.0, cash=100.0, reserved=90.0)
    v = rules.cash_available(ctx(acct=acct, shares=60.0))
    assert (v.action, v.shares) == ("resize", 20.0)
    broke = account(cash=100.0, reserved=100.0)
    assert rules.cash_available(ctx(acct=broke, shares=1.0)).detail == (
        "cash 0.00 already at cap 0.00"
    )


def test_cash_rule_includes_fees_and_the_worst_level_walked() -> None:
    # $10.2 buys 20 at 0.50 with no fee; with 4% fee each share costs 0.51: 20 shares exactly.
    c = candidate(market(fee_rate=0.04), p_model=0.70)
    acct = account(cash=10.2, reserved=0.0)
    v = rules.cash_available(ctx(c, acct, shares=60.0))
    assert v.shares == pytest.approx(20.0)
    # Two levels: a commit counts every share at the worst level (0.51), so 10.2 buys 20.
    deep = candidate(prices=[0.50, 0.51], sizes=[10.0, 100.0], p_model=0.70)
    v2 = rules.cash_available(ctx(deep, account(cash=10.2), shares=60.0))
    assert v2.shares == pytest.approx(20.0)


# --- priced order --------------------------------------------------------------------------


def test_edge_below_threshold_denies_with_edge_and_size() -> None:
    # Limit 0.55 (0.60 - 0.05); walking to 0.55 keeps each share's edge >= 0.05, so the average
    # clears too; the rule still re-measures at size.
    c = candidate(p_model=0.60, prices=[0.54, 0.55, 0.58], sizes=[10.0, 10.0, 10.0])
    assert rules.edge_below_threshold(ctx(c, shares=20.0)).action == "allow"
    top_short = candidate(p_model=0.531)
    v = rules.edge_below_threshold(ctx(top_short, shares=57.0))
    assert v == Verdict("deny", 0.0, "0.031 < 0.050 at top of book")


def test_edge_below_threshold_rechecks_the_average_at_size_whatever_limit_it_is_given() -> None:
    # A context whose limit was set loosely (0.58): the average over 30 shares is 0.5567.
    c = candidate(p_model=0.60, prices=[0.54, 0.55, 0.58], sizes=[10.0, 10.0, 10.0])
    loose = RuleContext(c, account(), risk(), THRESHOLD, 0.58, 30.0)
    v = rules.edge_below_threshold(loose)
    assert v == Verdict("deny", 0.0, "0.043 < 0.050 at 30.00 shares")


def test_edge_below_threshold_measures_a_sell_as_proceeds_minus_model() -> None:
    held = account(held={("m1", Outcome.YES): 100.0})
    assert rules.edge_below_threshold(ctx(sell_candidate(0.44), held, shares=10.0)).action == (
        "allow"
    )
    v = rules.edge_below_threshold(ctx(sell_candidate(0.47), held, shares=10.0))
    assert v == Verdict("deny", 0.0, "0.030 < 0.050 at top of book")


def test_book_depth_trims_to_what_fills_within_the_limit() -> None:
    c = candidate(p_model=0.60, prices=[0.54, 0.55, 0.58], sizes=[10.0, 10.0, 500.0])
    v = rules.book_depth(ctx(c, shares=100.0))
    assert v == Verdict("resize", 20.0, "100.00 -> 20.00 shares within limit 0.55")
    assert rules.book_depth(ctx(c, shares=15.0)).action == "allow"


def test_below_exchange_minimum_denies_under_five_shares() -> None:
    v = rules.below_exchange_minimum(ctx(shares=3.2))
    assert v == Verdict("deny", 0.0, "3.20 shares < 5")
    assert rules.below_exchange_minimum(ctx(shares=5.0)).action == "allow"


def test_below_exchange_minimum_uses_the_larger_of_market_and_config_minimum() -> None:
    big_min = candidate(market(min_order_size=15.0))
    assert rules.below_exchange_minimum(ctx(big_min, shares=10.0)).detail == "10.00 shares < 15"


def test_below_exchange_minimum_denies_under_one_dollar_notional() -> None:
    cheap = candidate(p_model=0.15, prices=[0.08], sizes=[1_000.0])
    v = rules.below_exchange_minimum(ctx(cheap, shares=10.0))
    assert v == Verdict("deny", 0.0, "notional $0.80 < $1")
    assert rules.below_exchange_minimum(ctx(cheap, shares=12.5)).action == "allow"


# --- the manager ---------------------------------------------------------------------------


def test_rejection_reason_names_the_rule_and_its_detail() -> None:
    d = manager().evaluate(candidate(), account(last_action_ts={"m1": NOW - 188.0}))
    assert d.order is None
    assert d.signal.decision == "rejected"
    assert d.signal.reason == "cooldown: 412s left"


def test_gates_run_before_sizing_in_the_documented_order() -> None:
    stale_and_cooling = account(last_action_ts={"m1": NOW})
    d = manager().evaluate(candidate(book_age=500.0), stale_and_cooling)
    assert d.signal.reason is not None
    assert d.signal.reason.startswith("stale_data:")


def test_accepted_order_is_committed_so_the_next_candidate_sees_it() -> None:
    rm = manager(cooldown_seconds=0.0)
    acct = account()
    first = rm.evaluate(candidate(), acct)
    assert first.order is not None
    assert ("m1", Outcome.YES, Side.BUY) in acct.open_keys
    assert acct.reserved == pytest.approx(first.order.size * first.order.limit_price)
    assert acct.exposure_by_market["m1"] == pytest.approx(acct.reserved)
    again = rm.evaluate(candidate(), acct)
    assert again.signal.reason == "duplicate: BUY YES already in flight"


def test_commit_starts_the_cooldown_within_the_same_cycle() -> None:
    rm = manager()
    acct = account()
    assert rm.evaluate(candidate(), acct).order is not None
    no_side = candidate(outcome=Outcome.NO)
    assert rm.evaluate(no_side, acct).signal.reason == "cooldown: 600s left"


def test_committed_exposure_shrinks_the_next_candidate_in_the_same_event() -> None:
    rm = manager(cooldown_seconds=0.0, max_position_pct=0.10, max_deploy_per_hour_pct=1.0)
    acct = account()
    a = rm.evaluate(candidate(market("a", event_id="e"), p_model=0.9), acct)
    b = rm.evaluate(candidate(market("b", event_id="e"), p_model=0.9), acct)
    assert a.order is not None and b.order is not None
    assert a.order.size == pytest.approx(200.0)  # $100 position cap
    assert b.order.size == pytest.approx(100.0)  # $50 left of the $150 event cap
    assert b.signal.reason is not None
    assert b.signal.reason.endswith(
        "; max_event_exposure: 200.00 -> 100.00 shares (event e room 50.00)"
    )
    c = rm.evaluate(candidate(market("c", event_id="e"), p_model=0.9), acct)
    assert c.signal.reason == "max_event_exposure: event e 150.00 already at cap 150.00"


def test_sizing_uses_cash_left_after_pending_intents() -> None:
    # $1000 equity but $990 reserved by open orders / pending intents: at most $10.
    d = manager().evaluate(candidate(p_model=0.56), account(reserved=990.0))
    assert d.order is not None
    assert d.order.size == pytest.approx(20.0)
    assert d.signal.reason == "cash_available: 60.00 -> 20.00 shares (cash room 10.00)"


def test_cash_too_small_for_the_exchange_minimum_is_rejected_before_anyone_sees_it() -> None:
    d = manager().evaluate(candidate(p_model=0.56), account(reserved=998.0))
    assert d.order is None
    assert d.signal.reason == "below_exchange_minimum: 4.00 shares < 5"


def test_a_sell_closes_the_holding_at_bids_clearing_the_threshold() -> None:
    acct = account(held={("m1", Outcome.YES): 150.0})
    d = manager().evaluate(sell_candidate(0.43), acct)
    assert d.order is not None
    # Bids 0.50 and 0.49 leave >= 0.05 over 0.43; 0.48 does not: 150 held, 100 + 50 sold.
    assert d.order.side is Side.SELL
    assert d.order.size == pytest.approx(150.0)
    assert d.order.limit_price == 0.49
    assert acct.held[("m1", Outcome.YES)] == 0.0
    assert acct.reserved == 0.0


def test_a_sell_never_exceeds_the_shares_held() -> None:
    acct = account(held={("m1", Outcome.YES): 12.0})
    d = manager().evaluate(sell_candidate(0.30), acct)
    assert d.order is not None
    assert d.order.size == pytest.approx(12.0)


def test_a_sell_without_holdings_is_rejected_not_turned_into_a_short() -> None:
    d = manager().evaluate(sell_candidate(0.30), account())
    assert d.order is None
    assert d.signal.reason == "holdings: no YES shares held"


def test_accepted_signal_carries_the_walked_price_and_net_edge() -> None:
    c = candidate(p_model=0.60, prices=[0.50, 0.52], sizes=[40.0, 1_000.0])
    d = manager().evaluate(c, account())
    assert d.order is not None
    s = d.signal
    assert s.decision == "order"
    assert s.size == d.order.size
    assert s.price == pytest.approx((40 * 0.50 + (s.size - 40) * 0.52) / s.size)
    assert s.edge == pytest.approx(0.60 - s.price)
    assert d.order.edge == pytest.approx(s.edge)


def test_order_fields_come_from_the_candidate_and_the_id_factory() -> None:
    d = manager().evaluate(candidate(outcome=Outcome.NO), account())
    assert d.order is not None
    assert (d.order.order_id, d.order.token_id, d.order.outcome) == ("t-000001", "m1-no", 1)


# --- kill switches -------------------------------------------------------------------------


def test_daily_loss_limit_trips_the_kill_switch() -> None:
    rm = manager()
    assert rm.kill_switch(account(equity=960.0, day_start_equity=1_000.0)) is None
    reason = rm.kill_switch(account(equity=950.0, day_start_equity=1_000.0))
    assert reason is not None and reason.startswith("daily_loss_limit: equity 950.00 is 5.0%")


def test_max_drawdown_from_peak_trips_the_kill_switch() -> None:
    rm = manager()
    ok = account(equity=850.0, day_start_equity=850.0, peak_equity=1_000.0)
    assert rm.kill_switch(ok) is None
    hit = account(equity=800.0, day_start_equity=800.0, peak_equity=1_000.0)
    reason = rm.kill_switch(hit)
    assert reason is not None and reason.startswith("max_drawdown: equity 800.00 is 20.0%")


def test_a_tripped_kill_switch_blocks_new_buys_but_not_closing_sells() -> None:
    rm = manager()
    down = account(equity=900.0, day_start_equity=1_000.0, held={("m1", Outcome.YES): 20.0})
    buy = rm.evaluate(candidate(), down)
    assert buy.signal.reason is not None and buy.signal.reason.startswith("kill_switch:")
    assert rm.evaluate(sell_candidate(0.30), down).order is not None


def test_the_hourly_deployment_pace_trims_then_denies_new_buys() -> None:
    """10% of equity a rolling hour: what this hour's orders committed counts, in-cycle
    commits included, and a SELL (closing) is never paced."""
    rm = manager(cooldown_seconds=0.0, max_position_pct=1.0, max_deploy_per_hour_pct=0.10)
    acct = account(deployed_last_hour=60.0)
    a = rm.evaluate(candidate(market("a"), p_model=0.9), acct)
    assert a.order is not None and a.order.size == pytest.approx(80.0)  # $40 of room at 0.50
    assert (
        a.signal.reason == "deployment_pace: 400.00 -> 80.00 shares (deployed this hour room 40.00)"
    )
    assert acct.deployed_last_hour == pytest.approx(100.0)
    b = rm.evaluate(candidate(market("b"), p_model=0.9), acct)
    assert b.order is None
    assert b.signal.reason == "deployment_pace: deployed this hour 100.00 already at cap 100.00"
    crumbs = rm.evaluate(candidate(market("d"), p_model=0.9), account(deployed_last_hour=99.5))
    assert (
        crumbs.signal.reason == "deployment_pace: deployed this hour room 0.50 < $1 minimum order"
    )
    acct.held[("c", Outcome.YES)] = 10.0
    bids = candidate(market("c"), side=Side.SELL, p_model=0.1, prices=[0.5, 0.49], sizes=[99, 99])
    sell = rm.evaluate(bids, acct)
    assert sell.order is not None and sell.order.side is Side.SELL
