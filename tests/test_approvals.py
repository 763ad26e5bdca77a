"""The re-check an approved intent passes before anything is sent, and the processor's
refusals: a person's approval is for the idea at that book, not at any later one."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.execution.approvals import RUN_ENDED, ApprovalProcessor
from engine.execution.intents import IntentStore
from engine.execution.portfolio import Portfolio
from engine.execution.recheck import recheck_intent
from engine.models import IntentState, Market, Outcome, Side, TradeIntent
from engine.risk.thresholds import EdgeThresholds
from engine.state.market_state import MarketState
from engine.storage import Database
from tests.state_factories import T0, book, market, state_with

S = IntentState


def intent_on(
    m: Market,
    *,
    side: Side = Side.BUY,
    outcome: Outcome = Outcome.YES,
    size: float = 10.0,
    price: float = 0.50,
    p_model: float = 0.60,
    state: IntentState = S.APPROVED,
    created: float = T0,
) -> TradeIntent:
    return TradeIntent(
        intent_id=f"i-{side.value}-{outcome.value}-{price}",
        created_ts=created,
        expires_ts=created + 300,
        market_id=m.market_id,
        token_id=m.token(outcome),
        outcome=outcome,
        side=side,
        size=size,
        limit_price=price,
        p_model=p_model,
        edge=0.1,
        state=state,
    )


def test_a_buy_still_good_at_the_book_passes_with_its_edge_after_fees() -> None:
    free = market(1, fee_rate=0.0)
    fee = market(2, fee_rate=0.04)
    st = state_with([free, fee], [book(free, 0.48, 0.50), book(fee, 0.48, 0.50)])
    clean = recheck_intent(intent_on(free), st, threshold=0.02, tolerance=0.01)
    assert clean.ok and clean.edge == pytest.approx(0.60 - 0.50)
    taxed = recheck_intent(intent_on(fee), st, threshold=0.02, tolerance=0.01)
    assert taxed.ok and 0.02 <= taxed.edge < clean.edge  # the taker fee comes off


def test_a_buy_that_the_book_no_longer_fills_within_tolerance_fails() -> None:
    m = market(1, fee_rate=0.0)
    st = state_with([m], [book(m, 0.52, 0.54, size=4.0, levels=1)])
    thin = recheck_intent(intent_on(m, price=0.53), st, threshold=0.02, tolerance=0.01)
    assert not thin.ok and "only 4.00 of 10.00 shares within 0.540" in thin.reason
    st = state_with([m], [book(m, 0.55, 0.57)])
    away = recheck_intent(intent_on(m), st, threshold=0.02, tolerance=0.01)
    assert not away.ok and "price moved" in away.reason


def test_a_sell_is_measured_on_what_it_receives_net_of_fees() -> None:
    m = market(1, fee_rate=0.0)
    st = state_with([m], [book(m, 0.70, 0.72)])
    sell = intent_on(m, side=Side.SELL, price=0.70, p_model=0.60)
    good = recheck_intent(sell, st, threshold=0.02, tolerance=0.01, held=10.0)
    assert good.ok and good.edge == pytest.approx(0.70 - 0.60)
    fee = market(2, fee_rate=0.04)
    st_fee = state_with([fee], [book(fee, 0.70, 0.72)])
    taxed = recheck_intent(replace(sell, market_id=fee.market_id), st_fee, 0.02, 0.01, held=10)
    assert taxed.ok and taxed.edge < good.edge  # the fee comes out of the proceeds
    st = state_with([m], [book(m, 0.69, 0.72)])  # within tolerance, but the edge is thin
    exits_at_2c = EdgeThresholds(entry=0.05, exit=0.02)  # a SELL closes: the exit edge counts
    thin = recheck_intent(replace(sell, p_model=0.68), st, exits_at_2c, 0.01, held=10.0)
    assert not thin.ok and thin.reason == "edge gone: 0.010 < 0.020 after fees"
    assert thin.edge == pytest.approx(0.01) and thin.overridable
    closing = recheck_intent(replace(sell, p_model=0.68), st, EdgeThresholds(0.05), 0.01, held=10)
    assert closing.ok  # any edge >= 0 closes by default; the entry threshold is for BUYs


def test_a_sell_of_shares_no_longer_held_fails_and_cannot_be_overridden() -> None:
    m = market(1, fee_rate=0.0)
    st = state_with([m], [book(m, 0.70, 0.72)])
    sell = intent_on(m, side=Side.SELL, price=0.70, p_model=0.60, size=10.0)
    short = recheck_intent(sell, st, threshold=0.02, tolerance=0.01, held=4.0)
    assert not short.ok and not short.overridable
    assert short.reason == "holds only 4.00 of the 10.00 shares to sell"
    assert not recheck_intent(sell, st, 0.02, 0.01).ok  # holdings unknown: none


def test_a_market_gone_or_closed_fails_the_recheck() -> None:
    live = market(1)
    st = state_with([live], [book(live, 0.48, 0.50)])
    stray = intent_on(market(9))
    assert recheck_intent(stray, st, 0.02, 0.01).reason == "market unknown to the engine"
    for closed in (replace(live, resolved=True), replace(live, accepting_orders=False)):
        st = state_with([closed], [book(closed, 0.48, 0.50)])
        check = recheck_intent(intent_on(closed), st, 0.02, 0.01)
        assert not check.ok and check.reason == "market no longer accepting orders"


def processor(
    store: IntentStore, st: MarketState, *, dry_run: bool, pf: Portfolio | None = None
) -> ApprovalProcessor:
    return ApprovalProcessor(
        store,
        st,
        0.02,
        0.01,
        expiry_seconds=60,
        dry_run=dry_run,
        run_id="run",
        portfolio=pf or Portfolio(1_000.0),
    )


@pytest.fixture
def store() -> IntentStore:
    db = Database("sqlite://")
    db.init()
    return IntentStore(db)


def test_an_approval_not_executed_in_time_expires_instead_of_trading(store: IntentStore) -> None:
    m = market(1, fee_rate=0.0)
    st = state_with([m], [book(m, 0.48, 0.50)])
    late = intent_on(m)
    store.create([late], "run")
    proc = processor(store, st, dry_run=True)
    (line,) = proc.process(T0 + 61)
    gone = store.require(late.intent_id)
    assert gone.state is S.EXPIRED and gone.reason == "approved but not executed in time"
    assert "expired after approval" in line


def test_live_without_an_executor_fails_the_intent_rather_than_pretending(
    store: IntentStore,
) -> None:
    m = market(1, fee_rate=0.0)
    st = state_with([m], [book(m, 0.48, 0.50)])
    intent = intent_on(m)
    store.create([intent], "run")
    proc = processor(store, st, dry_run=False)
    (line,) = proc.process(T0 + 1)
    assert line.endswith("failed: no live executor configured")
    failed = store.require(intent.intent_id)
    assert failed.state is S.FAILED and failed.reason == "no live executor configured"
    assert proc.take_reports() == []


def test_a_dry_run_sell_of_shares_no_longer_held_fails_instead_of_executing(
    store: IntentStore,
) -> None:
    m = market(1, fee_rate=0.0)
    st = state_with([m], [book(m, 0.70, 0.72)])
    pf = Portfolio(1_000.0)
    sell = intent_on(m, side=Side.SELL, price=0.70, p_model=0.60, size=10.0)
    store.create([sell], "run")
    (line,) = processor(store, st, dry_run=True, pf=pf).process(T0 + 1)
    failed = store.require(sell.intent_id)
    assert failed.state is S.FAILED and "holds only 0.00" in (failed.reason or ""), line


def test_an_override_stored_at_approval_carries_out_a_failed_recheck(store: IntentStore) -> None:
    m = market(1, fee_rate=0.0)
    st = state_with([m], [book(m, 0.55, 0.57)])  # the ask moved past the tolerance
    plain = intent_on(m, state=S.PENDING, price=0.50)
    forced = replace(plain, intent_id="i-forced")
    store.create([plain, forced], "run")
    assert store.approve(plain.intent_id, T0)
    assert store.approve(forced.intent_id, T0, override="price moved: only 0.00 of 10.00")
    proc = processor(store, st, dry_run=True)
    lines = proc.process(T0 + 1)
    assert store.require(plain.intent_id).state is S.FAILED
    done = store.require(forced.intent_id)
    assert done.state is S.EXECUTED_DRYRUN, lines
    assert done.override == "price moved: only 0.00 of 10.00"
    assert any("overridden at approval" in line for line in lines)


def test_an_override_never_carries_out_an_intent_on_a_closed_market(store: IntentStore) -> None:
    m = replace(market(1, fee_rate=0.0), accepting_orders=False)
    st = state_with([m], [book(m, 0.48, 0.50)])
    intent = intent_on(m, state=S.PENDING)
    store.create([intent], "run")
    assert store.approve(intent.intent_id, T0, override="edge gone")
    processor(store, st, dry_run=True).process(T0 + 1)
    assert store.require(intent.intent_id).state is S.FAILED


def test_only_the_runs_own_approved_intents_are_carried_out(store: IntentStore) -> None:
    m = market(1, fee_rate=0.0)
    st = state_with([m], [book(m, 0.48, 0.50)])
    mine = intent_on(m)
    other = replace(mine, intent_id="i-other-run")
    store.create([mine], "run")
    store.create([other], "an-earlier-run")
    processor(store, st, dry_run=True).process(T0 + 1)
    assert store.require(mine.intent_id).state is S.EXECUTED_DRYRUN
    assert store.require(other.intent_id).state is S.APPROVED  # never this run's to send


def test_a_runs_end_expires_the_intents_it_never_sent(store: IntentStore) -> None:
    m = market(1, fee_rate=0.0)
    st = state_with([m], [book(m, 0.48, 0.50)])
    pending = intent_on(m, state=S.PENDING)
    approved_ = replace(intent_on(m), intent_id="i-approved")
    other = replace(pending, intent_id="i-other-run")
    store.create([pending, approved_], "run")
    store.create([other], "another-run")
    lines = processor(store, st, dry_run=True).close(T0 + 5)
    for i in (pending, approved_):
        gone = store.require(i.intent_id)
        assert gone.state is S.EXPIRED and gone.reason == RUN_ENDED
    assert store.require(other.intent_id).state is S.PENDING
    assert len(lines) == 2 and all("its run ended" in line for line in lines)
