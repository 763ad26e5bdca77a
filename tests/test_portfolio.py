"""The ledger: cash, average cost, realized/unrealized PnL, settlement, and no shorts ever."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.execution.portfolio import Portfolio, ShortSaleError
from engine.models import Outcome, Side
from tests.risk_factories import fill

YES, NO = Outcome.YES, Outcome.NO


def flat(price: float) -> Callable[[str, Outcome], float]:
    """A mark that prices every token the same (enough for single-price PnL checks)."""
    return lambda market_id, outcome: price


def test_buy_debits_notional_plus_fee_and_sets_average_cost() -> None:
    pf = Portfolio(100.0)
    pf.apply_fill(fill(Side.BUY, 10.0, 0.40, fee=0.05))
    pf.apply_fill(fill(Side.BUY, 30.0, 0.60, fee=0.10))
    assert pf.cash == pytest.approx(100.0 - 4.0 - 0.05 - 18.0 - 0.10)
    pos = pf.positions[("m1", YES)]
    assert pos.size == pytest.approx(40.0)
    assert pos.avg_price == pytest.approx((4.0 + 18.0) / 40.0)  # fees stay out of the cost
    assert pf.fees_paid == pytest.approx(0.15)
    assert pf.realized_pnl == pytest.approx(-0.15)  # a fee is a realized cost when paid


def test_sell_credits_proceeds_and_realizes_pnl_against_average_cost() -> None:
    pf = Portfolio(100.0)
    pf.apply_fill(fill(Side.BUY, 20.0, 0.50))
    pf.apply_fill(fill(Side.SELL, 15.0, 0.70, fee=0.06))
    assert pf.cash == pytest.approx(100.0 - 10.0 + 10.5 - 0.06)
    assert pf.realized_pnl == pytest.approx(15.0 * 0.20 - 0.06)
    assert pf.held("m1", YES) == pytest.approx(5.0)
    assert pf.positions[("m1", YES)].avg_price == pytest.approx(0.50)


def test_selling_everything_closes_the_position() -> None:
    pf = Portfolio(100.0)
    pf.apply_fill(fill(Side.BUY, 20.0, 0.50))
    pf.apply_fill(fill(Side.SELL, 20.0, 0.40))
    assert ("m1", YES) not in pf.positions
    assert pf.held("m1", YES) == 0.0
    assert pf.realized_pnl == pytest.approx(-2.0)


def test_a_closed_position_keeps_its_realized_pnl_and_a_reopen_carries_it_on() -> None:
    pf = Portfolio(100.0)
    pf.apply_fill(fill(Side.BUY, 20.0, 0.50))
    pf.apply_fill(fill(Side.SELL, 20.0, 0.60, fee=0.1))
    assert pf.closed_realized[("m1", YES)] == pytest.approx(2.0 - 0.1)
    pf.apply_fill(fill(Side.BUY, 10.0, 0.40, fee=0.05))
    assert ("m1", YES) not in pf.closed_realized
    assert pf.positions[("m1", YES)].realized_pnl == pytest.approx(1.9 - 0.05)


def test_sell_without_holding_raises_and_changes_nothing() -> None:
    pf = Portfolio(100.0)
    with pytest.raises(ShortSaleError, match="cannot short"):
        pf.apply_fill(fill(Side.SELL, 5.0, 0.50))
    assert pf.cash == 100.0
    assert pf.positions == {}


def test_sell_beyond_holding_raises_and_changes_nothing() -> None:
    pf = Portfolio(100.0)
    pf.apply_fill(fill(Side.BUY, 10.0, 0.50))
    before = (pf.cash, pf.realized_pnl, pf.held("m1", YES))
    with pytest.raises(ShortSaleError):
        pf.apply_fill(fill(Side.SELL, 10.5, 0.60))
    assert (pf.cash, pf.realized_pnl, pf.held("m1", YES)) == before


def test_holding_yes_does_not_allow_selling_no() -> None:
    pf = Portfolio(100.0)
    pf.apply_fill(fill(Side.BUY, 10.0, 0.50, outcome=YES))
    with pytest.raises(ShortSaleError):
        pf.apply_fill(fill(Side.SELL, 1.0, 0.50, outcome=NO))


def test_a_sell_whose_fee_exceeds_its_proceeds_is_refused() -> None:
    pf = Portfolio(100.0)
    pf.apply_fill(fill(Side.BUY, 10.0, 0.50))
    with pytest.raises(ValueError, match="never debit cash"):
        pf.apply_fill(fill(Side.SELL, 10.0, 0.01, fee=0.2))
    assert pf.held("m1", YES) == 10.0


@pytest.mark.parametrize(
    "bad", [fill(Side.BUY, 0.0, 0.5), fill(Side.BUY, 1.0, 1.5), fill(Side.BUY, 1.0, 0.5, fee=-1)]
)
def test_malformed_fills_are_refused(bad: object) -> None:
    pf = Portfolio(100.0)
    with pytest.raises(ValueError):
        pf.apply_fill(bad)  # type: ignore[arg-type]
    assert pf.cash == 100.0


def test_settlement_at_one_pays_yes_holders_a_dollar_a_share() -> None:
    pf = Portfolio(100.0)
    pf.apply_fill(fill(Side.BUY, 10.0, 0.40))
    records = pf.settle("m1", 1.0, ts=5.0)
    assert pf.cash == pytest.approx(100.0 - 4.0 + 10.0)
    assert pf.realized_pnl == pytest.approx(6.0)
    assert pf.positions == {}
    (r,) = records
    assert (r.side, r.price, r.size, r.fee, r.order_id) == (
        Side.SELL,
        1.0,
        10.0,
        0.0,
        "settle-m1-YES",
    )


def test_settlement_at_zero_pays_no_holders_and_wipes_yes_holders() -> None:
    pf = Portfolio(100.0)
    pf.apply_fill(fill(Side.BUY, 10.0, 0.40, outcome=YES))
    pf.apply_fill(fill(Side.BUY, 10.0, 0.55, outcome=NO))
    records = pf.settle("m1", 0.0, ts=5.0)
    assert pf.cash == pytest.approx(100.0 - 4.0 - 5.5 + 10.0)
    assert pf.realized_pnl == pytest.approx(-4.0 + 4.5)
    assert {(r.outcome, r.price) for r in records} == {(YES, 0.0), (NO, 1.0)}
    assert pf.positions == {}


def test_settlement_leaves_other_markets_alone() -> None:
    pf = Portfolio(100.0)
    pf.apply_fill(fill(Side.BUY, 10.0, 0.40, market_id="other"))
    assert pf.settle("m1", 1.0, ts=5.0) == []
    assert pf.held("other", YES) == 10.0


def test_unrealized_pnl_and_equity_mark_positions_at_the_given_price() -> None:
    pf = Portfolio(100.0)
    pf.apply_fill(fill(Side.BUY, 10.0, 0.40))
    assert pf.market_value(flat(0.55)) == pytest.approx(5.5)
    assert pf.unrealized_pnl(flat(0.55)) == pytest.approx(1.5)
    assert pf.equity(flat(0.55)) == pytest.approx(96.0 + 5.5)


def test_a_missing_mark_values_a_position_at_cost_not_zero() -> None:
    pf = Portfolio(100.0)
    pf.apply_fill(fill(Side.BUY, 10.0, 0.40))
    assert pf.market_value(flat(math.nan)) == pytest.approx(4.0)
    assert pf.unrealized_pnl(flat(math.nan)) == 0.0


def test_reservations_hold_cash_back_until_released() -> None:
    pf = Portfolio(100.0)
    pf.reserve("a", 30.0)
    pf.reserve("b", 20.0)
    assert pf.reserved == pytest.approx(50.0)
    assert pf.cash_available == pytest.approx(50.0)
    pf.reserve("a", 10.0)  # re-reserving replaces, never double counts
    assert pf.reserved == pytest.approx(30.0)
    pf.release("a")
    pf.release("a")  # idempotent
    pf.release("b")
    assert pf.reserved == 0.0
    assert pf.cash == 100.0


# --- property: no path opens a short --------------------------------------------------------

ops = st.lists(
    st.tuples(
        st.sampled_from([Side.BUY, Side.SELL]),
        st.sampled_from(["m1", "m2"]),
        st.sampled_from([YES, NO]),
        st.floats(min_value=0.01, max_value=200.0),
        st.floats(min_value=0.01, max_value=0.99),
        st.floats(min_value=0.0, max_value=0.07),
    ),
    max_size=60,
)


@given(ops)
def test_no_sequence_of_fills_opens_a_short_or_debits_cash_on_a_sell(
    sequence: list[tuple[Side, str, Outcome, float, float, float]],
) -> None:
    pf = Portfolio(1_000.0)
    for side, market_id, outcome, size, price, rate in sequence:
        f = fill(
            side,
            size,
            price,
            fee=size * rate * price * (1 - price),
            market_id=market_id,
            outcome=outcome,
        )
        held = pf.held(market_id, outcome)
        cash = pf.cash
        if side is Side.SELL and size > held + 1e-9:
            with pytest.raises(ShortSaleError):
                pf.apply_fill(f)
            assert pf.cash == cash and pf.held(market_id, outcome) == held
        else:
            pf.apply_fill(f)
        if side is Side.SELL:
            assert pf.cash >= cash  # a sell never takes cash away
        assert all(p.size > 0 for p in pf.positions.values())


@given(ops, st.floats(min_value=0.0, max_value=1.0))
def test_equity_change_equals_realized_plus_unrealized_pnl(
    sequence: list[tuple[Side, str, Outcome, float, float, float]], mark: float
) -> None:
    pf = Portfolio(1_000.0)
    for side, market_id, outcome, size, price, rate in sequence:
        held = pf.held(market_id, outcome)
        if side is Side.SELL:
            size = min(size, held)
            if size <= 0:
                continue
        fee = size * rate * price * (1 - price)
        pf.apply_fill(fill(side, size, price, fee=fee, market_id=market_id, outcome=outcome))
    pnl = pf.equity(flat(mark)) - 1_000.0
    assert pnl == pytest.approx(pf.realized_pnl + pf.unrealized_pnl(flat(mark)), abs=1e-6)
    pf.settle("m1", 1.0, ts=0.0)
    pf.settle("m2", 0.0, ts=0.0)
    assert pf.positions == {}
    assert pf.cash - 1_000.0 == pytest.approx(pf.realized_pnl, abs=1e-6)
