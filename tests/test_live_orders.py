"""Order planning, signing amounts, fills and fees, and the resolution rules, without faults."""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from engine.execution.clob_answers import parse_order_row
from engine.execution.clob_client import ClobError, backoff_delay
from engine.execution.clob_fills import fill_status, fills_of_order, to_fill
from engine.execution.clob_orders import (
    MarketRules,
    OrderRefused,
    check_signed,
    plan_order,
    snap_price,
)
from engine.execution.clob_settings import ClobSettings
from engine.execution.intents import IntentRecord
from engine.execution.reconcile import Decision, OrderLookup, Target, decide
from engine.models import IntentState, Outcome, Side, TradeIntent
from fake_polymarket import ThreadedFakePolymarket
from tests.fake_exchange_fixture import fake_polymarket_thread_fixture  # noqa: F401
from tests.test_live_executor import approved, make_live, pick_market

D = Decimal
S = IntentState
NOW = 1_767_225_600.0


def rules(tick: str = "0.01", **over: object) -> MarketRules:
    body: dict[str, object] = {
        "c": "0xcond",
        "t": [{"t": "111", "o": "Yes"}, {"t": "222", "o": "No"}],
        "mts": float(tick),
        "mos": 5,
        "fd": {"r": 0.04, "e": 1, "to": True},
        "ao": True,
    }
    body.update(over)
    return MarketRules.from_wire(body)


def intent(
    side: Side = Side.BUY, size: float = 10.0, price: float = 0.55, token: str = "111"
) -> TradeIntent:
    return TradeIntent(
        intent_id="i1",
        created_ts=NOW,
        expires_ts=NOW + 300,
        market_id="0xcond",
        token_id=token,
        outcome=Outcome.YES,
        side=side,
        size=size,
        limit_price=price,
        p_model=0.6,
        edge=0.05,
        state=S.APPROVED,
    )


# --- planning ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "tick", "side", "expected"),
    [
        ("0.555", "0.01", Side.BUY, "0.55"),  # a BUY never pays more than approved
        ("0.555", "0.01", Side.SELL, "0.56"),  # a SELL never gets less
        ("0.57", "0.01", Side.BUY, "0.57"),  # exact grid values stay (no 0.5699...)
        ("0.29", "0.01", Side.SELL, "0.29"),
        ("0.9991", "0.001", Side.BUY, "0.999"),
        ("0.995", "0.01", Side.BUY, "0.99"),  # inside [tick, 1 - tick]
        ("0.001", "0.01", Side.SELL, "0.01"),
    ],
)
def test_prices_snap_onto_the_grid_towards_safety(
    price: str, tick: str, side: Side, expected: str
) -> None:
    assert snap_price(D(price), D(tick), side) == D(expected)


def test_prices_off_the_grid_ends_are_refused() -> None:
    with pytest.raises(OrderRefused, match="below the lowest price"):
        snap_price(D("0.005"), D("0.01"), Side.BUY)
    with pytest.raises(OrderRefused, match="above the highest price"):
        snap_price(D("0.995"), D("0.01"), Side.SELL)


def test_market_buy_spends_whole_cents_of_the_approved_cost() -> None:
    p = plan_order(intent(size=10.339, price=0.57), rules(), "FAK", wall_now=NOW, gtd_seconds=0)
    assert p.size == D("10.33") and p.price == D("0.57")
    assert p.amount == D("5.88") and p.budget == D("5.88")  # 10.33 x 0.57 = 5.8881
    assert "rounded down" in p.note
    sell = plan_order(intent(Side.SELL, 7.5), rules(), "FOK", wall_now=NOW, gtd_seconds=0)
    assert sell.amount == D("7.5") and sell.budget is None


def test_minimums_are_checked_before_signing() -> None:
    with pytest.raises(OrderRefused, match="minimum of 5"):
        plan_order(intent(size=4.99), rules(), "GTC", wall_now=NOW, gtd_seconds=0)
    with pytest.raises(OrderRefused, match=r"at least \$1"):
        plan_order(intent(size=5, price=0.19), rules(), "FAK", wall_now=NOW, gtd_seconds=0)
    # 5 shares at 0.2 is exactly $1: allowed; and a SELL has no dollar minimum.
    plan_order(intent(size=5, price=0.2), rules(), "GTC", wall_now=NOW, gtd_seconds=0)
    plan_order(intent(Side.SELL, 2, 0.1), rules(), "FAK", wall_now=NOW, gtd_seconds=0)
    with pytest.raises(OrderRefused, match="not accepting"):
        plan_order(intent(), rules(ao=False), "FAK", wall_now=NOW, gtd_seconds=0)
    with pytest.raises(OrderRefused, match="not traded in market"):
        plan_order(intent(token="999"), rules(), "FAK", wall_now=NOW, gtd_seconds=0)


def test_gtd_expiration_clears_polymarkets_one_minute_buffer() -> None:
    p = plan_order(intent(), rules(), "GTD", wall_now=NOW, gtd_seconds=300)
    assert p.expiration == int(NOW) + 360 and p.amount is None


def test_market_rules_parse_the_compact_market_info() -> None:
    r = rules("0.001", nr=True)
    assert r.tick_text == "0.001" and r.neg_risk and r.min_size == 5
    assert r.fee_rate == D("0.04") and r.accepting_orders is True
    assert MarketRules.from_wire({"c": "x", "t": [{"t": "1"}], "mts": 0.1}).accepting_orders is None
    with pytest.raises(ValueError, match="unsupported tick"):
        rules("0.02")


# --- signing through the SDK -----------------------------------------------------------------


@pytest.mark.parametrize(("tick", "step"), [(100, 1), (10, 37)])
def test_every_grid_price_signs_to_exactly_the_planned_amounts(
    fake_polymarket_thread: ThreadedFakePolymarket, tmp_path: Path, tick: int, step: int
) -> None:
    """Float artefacts (0.57 * 100 = 56.999...) must never change a signed order."""
    lv = make_live(fake_polymarket_thread, tmp_path)
    info = pick_market(fake_polymarket_thread, fee=False, tick=tick)
    session = lv.executor.session
    session.connect()
    market = session.market_rules(info.market.market_id)
    places = market.tick_text.count("0")
    units = 10**places
    for k in range(1, units, step):
        price = k / units
        for order_type, side in (("FAK", Side.BUY), ("GTC", Side.BUY), ("FAK", Side.SELL)):
            it = approved(lv, info, side=side, price=price, size=round(1.5 / price + 5.29, 2))
            p = plan_order(it, market, order_type, wall_now=time.time(), gtd_seconds=300)
            signed = session.sign(p)  # check_signed inside: refuses any difference
            assert signed.maker_amount == p.maker_amount, (price, order_type, side)
    lv.executor.close()


def test_a_signed_order_that_differs_from_its_plan_is_refused() -> None:
    p = plan_order(intent(size=10, price=0.55), rules(), "GTC", wall_now=NOW, gtd_seconds=0)
    check_signed(p, 5_500_000, 10_000_000)
    with pytest.raises(OrderRefused, match="maker amount"):
        check_signed(p, 5_510_000, 10_000_000)
    with pytest.raises(OrderRefused, match="not the planned"):
        check_signed(p, 5_500_000, 9_000_000)


# --- fills and fees --------------------------------------------------------------------------


def trade(**over: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": "t1",
        "taker_order_id": "0xabc",
        "price": "0.5",
        "size": "10",
        "fee_rate_bps": "400",
        "status": "MATCHED",
        "maker_orders": [],
    }
    row.update(over)
    return row


def test_a_taker_buy_pays_its_fee_in_shares() -> None:
    (f,) = fills_of_order([trade()], "0xABC")
    fill = to_fill(f, intent(price=0.5), "0xabc", NOW)
    assert fill is not None
    # fee = 10 x 0.04 x 0.5 x 0.5 = $0.10 = 0.2 shares at 0.5
    assert fill.size == pytest.approx(9.8) and fill.fee == pytest.approx(0.1)
    assert fill.size * fill.price + fill.fee == pytest.approx(5.0)  # what left the account


def test_a_taker_sell_pays_its_fee_in_usdc() -> None:
    (f,) = fills_of_order([trade(side="SELL")], "0xabc")
    fill = to_fill(f, intent(Side.SELL, price=0.5), "0xabc", NOW)
    assert fill is not None and fill.size == 10 and fill.fee == pytest.approx(0.1)


def test_maker_fills_failed_trades_and_other_orders() -> None:
    rows = [
        trade(id="t1", taker_order_id="0xother", maker_orders=[
            {"order_id": "0xabc", "matched_amount": "3", "price": "0.4", "fee_rate_bps": "0"},
            {"order_id": "0xzzz", "matched_amount": "9", "price": "0.4"},
        ]),
        trade(id="t2", status="FAILED"),
        trade(id="t3", taker_order_id="0xnot-ours"),
    ]  # fmt: skip
    (f,) = fills_of_order(rows, "0xabc")
    assert (f.trade_id, f.shares, f.taker, f.fee_rate) == ("t1", D(3), False, D(0))
    fill = to_fill(f, intent(), "0xabc", NOW)
    assert fill is not None and fill.fee == 0 and fill.size == 3


def test_fill_status_counts_shares_or_for_a_market_buy_dollars() -> None:
    (f,) = fills_of_order([trade(size="9.995")], "0xabc")
    assert fill_status([f], D(10), None) == "filled"  # within a hundredth of a share
    (g,) = fills_of_order([trade(size="6")], "0xabc")
    assert fill_status([g], D(10), None) == "partial"
    assert fill_status([g], D(10), D("3.00")) == "filled"  # spent the whole $3 budget
    assert fill_status([], D(10), None) == "unfilled"


# --- resolution rules ------------------------------------------------------------------------


def record(order_id: str | None, claimed: float = NOW) -> IntentRecord:
    submitted = replace(intent(), state=S.SUBMITTED, updated_ts=claimed)
    return IntentRecord(intent=submitted, run_id="r", order_id=order_id, executed_ts=claimed)


def test_decide_follows_the_exchange_never_a_guess() -> None:
    target = Target(D(10), None)
    filled = fills_of_order([trade()], "0xabc")

    def run(lookup: OrderLookup | None, rec: IntentRecord, accepted: bool = False) -> Decision:
        return decide(rec, lookup, target, accepted=accepted, now=NOW + 100, grace_s=60)

    no_id = run(None, record(None))
    assert no_id.state is S.FAILED and "nothing was sent" in no_id.reason
    row = parse_order_row({"id": "0xabc", "status": "LIVE", "size_matched": "2"})
    resting = run(OrderLookup("0xabc", row, []), record("0xabc"))
    assert resting.state is None and "resting, 2 matched" in resting.reason
    done = run(OrderLookup("0xabc", None, filled), record("0xabc"))
    assert done.state is S.FILLED and done.fills == filled
    waiting = run(OrderLookup("0xabc", None, filled, complete=False), record("0xabc"))
    assert waiting.state is None
    nothing = OrderLookup("0xabc", None, [])
    assert run(nothing, record("0xabc", claimed=NOW + 90)).state is None  # within the grace
    assert run(nothing, record("0xabc")).state is S.FAILED  # past it
    assert "closed without a fill" in run(nothing, record("0xabc", NOW + 90), True).reason


def test_backoff_honours_retry_after_up_to_a_cap() -> None:
    s = ClobSettings(backoff_base_s=0.5, backoff_max_s=4, max_retry_after_s=10)
    assert [backoff_delay(a, s, None) for a in range(5)] == [0.5, 1, 2, 4, 4]
    assert backoff_delay(0, s, 3) == 3 and backoff_delay(0, s, 60) == 10
    assert ClobError("x", status=429).transient and ClobError("x", status=503).transient
    assert not ClobError("x", status=400).transient
    assert ClobError("x", kind="maybe_sent").transient
    with pytest.raises(ValueError, match="heartbeat"):
        ClobSettings(heartbeat_interval_s=12)
