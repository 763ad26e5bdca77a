"""Paper executor: latency, book walking, partial fills, reservations, and never a short."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.events import BookSnapshot
from engine.execution.base import Executor
from engine.execution.paper import PaperExecutor
from engine.execution.portfolio import Portfolio
from engine.models import Fill, Market, Outcome, Side
from engine.state.market_state import MarketState
from tests.risk_factories import Books, fill, market, order

ASKS = ([0.50, 0.51, 0.52], [10.0, 10.0, 10.0])
BIDS = ([0.48, 0.47, 0.46], [10.0, 10.0, 10.0])


def setup(
    cash: float = 1_000.0, latency: float = 0.25, m: Market | None = None
) -> tuple[Portfolio, Books, PaperExecutor]:
    books = Books(m or market())
    books.set("m1", Side.BUY, *ASKS)
    books.set("m1", Side.SELL, *BIDS)
    pf = Portfolio(cash)
    return pf, books, PaperExecutor(pf, books, latency)


def test_paper_executor_implements_the_executor_protocol() -> None:
    _, _, ex = setup()
    assert isinstance(ex, Executor)


def test_a_buy_walks_levels_up_to_its_size() -> None:
    pf, _, ex = setup(latency=0.0)
    ex.submit(order(Side.BUY, 15.0, 0.52), 0.0)
    (r,) = ex.process_due(0.0)
    assert r.status == "filled" and r.reason is None
    (f,) = r.fills
    assert f.size == pytest.approx(15.0)
    assert f.price == pytest.approx((10 * 0.50 + 5 * 0.51) / 15)
    assert pf.held("m1", Outcome.YES) == pytest.approx(15.0)
    assert pf.cash == pytest.approx(1_000.0 - 7.55)


def test_the_limit_price_stops_the_walk_and_the_rest_is_cancelled() -> None:
    _, _, ex = setup(latency=0.0)
    ex.submit(order(Side.BUY, 25.0, 0.51), 0.0)
    (r,) = ex.process_due(0.0)
    assert r.status == "partial"
    assert r.filled_size == pytest.approx(20.0)
    assert r.reason == "depth exhausted within limit 0.51; 5.00 shares cancelled"
    assert ex.open_orders() == []  # fill-and-kill: nothing left resting


def test_depth_running_out_gives_a_partial_fill() -> None:
    _, _, ex = setup(latency=0.0)
    ex.submit(order(Side.BUY, 50.0, 0.60), 0.0)
    (r,) = ex.process_due(0.0)
    assert r.status == "partial"
    assert r.filled_size == pytest.approx(30.0)


def test_no_level_within_the_limit_leaves_the_order_unfilled() -> None:
    pf, _, ex = setup(latency=0.0)
    ex.submit(order(Side.BUY, 10.0, 0.45), 0.0)
    (r,) = ex.process_due(0.0)
    assert (r.status, r.reason, r.fills) == ("unfilled", "no liquidity within limit", [])
    assert pf.cash == 1_000.0


def test_an_order_is_not_filled_before_its_latency_has_passed() -> None:
    _, _, ex = setup(latency=0.25)
    ex.submit(order(), 10.0)
    assert ex.next_due() == pytest.approx(10.25)
    assert ex.process_due(10.2) == []
    assert [o.order_id for o in ex.open_orders()] == ["o1"]
    assert len(ex.process_due(10.25)) == 1
    assert ex.next_due() is None


def test_the_fill_uses_the_book_at_due_time_not_at_submit() -> None:
    _, books, ex = setup(latency=0.25)
    ex.submit(order(Side.BUY, 10.0, 0.55), 0.0)
    books.set("m1", Side.BUY, [0.54, 0.56], [4.0, 100.0])  # the book moves during latency
    (r,) = ex.process_due(1.0)
    assert r.status == "partial"
    assert r.fills[0].price == pytest.approx(0.54)
    assert r.filled_size == pytest.approx(4.0)


def test_due_orders_fill_in_submission_order() -> None:
    _, _, ex = setup(latency=0.0)
    ex.submit(order(Side.BUY, 15.0, 0.52, order_id="first"), 0.0)
    ex.submit(order(Side.BUY, 15.0, 0.52, order_id="second", outcome=Outcome.NO), 0.0)
    assert [r.order.order_id for r in ex.process_due(0.0)] == ["first", "second"]


def test_open_orders_reserve_their_max_cost_until_processed() -> None:
    pf, _, ex = setup(m=market(fee_rate=0.04))
    ex.submit(order(Side.BUY, 10.0, 0.52), 0.0)
    assert pf.reserved == pytest.approx(10 * 0.52 + 10 * 0.04 * 0.52 * 0.48)
    ex.process_due(1.0)
    assert pf.reserved == 0.0


def test_a_sell_reserves_no_cash() -> None:
    pf, _, ex = setup()
    pf.apply_fill(fill(Side.BUY, 10.0, 0.5))
    ex.submit(order(Side.SELL, 10.0, 0.46), 0.0)
    assert pf.reserved == 0.0


def test_a_buy_spends_only_cash_not_promised_to_other_orders() -> None:
    pf, _, ex = setup(cash=10.0, latency=0.0)
    pf.reserve("someone-else", 5.0)
    ex.submit(order(Side.BUY, 20.0, 0.52), 0.0)
    (r,) = ex.process_due(0.0)
    assert r.status == "partial"
    assert r.reason is not None and r.reason.startswith("not enough balance")
    assert r.filled_size == pytest.approx(10.0)  # $5 buys 10 at 0.50
    assert pf.cash == pytest.approx(5.0)


def test_a_sell_is_clipped_to_the_shares_held_at_fill_time() -> None:
    pf, _, ex = setup(latency=0.0)
    pf.apply_fill(fill(Side.BUY, 6.0, 0.50))
    ex.submit(order(Side.SELL, 15.0, 0.46), 0.0)
    (r,) = ex.process_due(0.0)
    assert r.status == "partial"
    assert r.filled_size == pytest.approx(6.0)
    assert r.reason == "clipped to 6.00 shares held; 9.00 shares cancelled"
    assert pf.held("m1", Outcome.YES) == 0.0


def test_a_sell_without_holdings_is_unfilled_not_a_short() -> None:
    pf, _, ex = setup(latency=0.0)
    ex.submit(order(Side.SELL, 10.0, 0.46), 0.0)
    (r,) = ex.process_due(0.0)
    assert (r.status, r.reason) == ("unfilled", "no shares held")
    assert pf.positions == {} and pf.cash == 1_000.0


def test_a_sell_walks_bids_down_to_its_limit() -> None:
    pf, _, ex = setup(latency=0.0, m=market(fee_rate=0.04))
    pf.apply_fill(fill(Side.BUY, 30.0, 0.40))
    ex.submit(order(Side.SELL, 30.0, 0.47), 0.0)
    (r,) = ex.process_due(0.0)
    assert r.filled_size == pytest.approx(20.0)
    f = r.fills[0]
    assert f.price == pytest.approx(0.475)
    assert f.fee == pytest.approx(10 * 0.04 * (0.48 * 0.52 + 0.47 * 0.53))
    assert pf.held("m1", Outcome.YES) == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("market_kw", "reason"),
    [
        ({"resolved": True, "accepting_orders": False}, "market resolved"),
        ({"accepting_orders": False}, "market not accepting orders"),
    ],
)
def test_orders_on_closed_markets_are_unfilled_with_a_reason(
    market_kw: dict[str, object], reason: str
) -> None:
    pf, _, ex = setup(latency=0.0, m=market(**market_kw))
    ex.submit(order(), 0.0)
    (r,) = ex.process_due(0.0)
    assert (r.status, r.reason) == ("unfilled", reason)
    assert pf.reserved == 0.0 and pf.cash == 1_000.0


def test_a_market_resolving_during_latency_leaves_the_order_unfilled() -> None:
    _, books, ex = setup(latency=0.25)
    ex.submit(order(), 0.0)
    m = books.market("m1")
    assert m is not None
    m.resolved, m.accepting_orders = True, False
    (r,) = ex.process_due(1.0)
    assert r.reason == "market resolved"


def test_an_unknown_market_is_unfilled() -> None:
    _, _, ex = setup(latency=0.0)
    ex.submit(order(market_id="nowhere"), 0.0)
    assert ex.process_due(0.0)[0].reason == "unknown market"


def test_fills_are_named_after_their_order_and_repeat_exactly() -> None:
    def run() -> list[Fill]:
        _, _, ex = setup(latency=0.0)
        ex.submit(order(Side.BUY, 15.0, 0.52, order_id="run-0000007"), 0.0)
        return [f for r in ex.process_due(0.0) for f in r.fills]

    first = run()
    assert first == run()
    assert [f.order_id for f in first] == ["run-0000007"]


def test_a_second_submit_of_the_same_order_id_is_refused() -> None:
    _, _, ex = setup()
    ex.submit(order(), 0.0)
    with pytest.raises(ValueError, match="already submitted"):
        ex.submit(order(), 0.0)


def test_buying_no_walks_the_mirrored_yes_bids_of_market_state() -> None:
    m = market()
    ms = MarketState(depth=8, history=10)
    ms.add_market(m)
    ms.apply(
        [
            BookSnapshot(
                m.yes_token,
                0.0,
                bid_px=np.array([0.45, 0.44]),
                bid_sz=np.array([10.0, 10.0]),
                ask_px=np.array([0.47, 0.48]),
                ask_sz=np.array([10.0, 10.0]),
            )
        ]
    )
    pf = Portfolio(100.0)
    ex = PaperExecutor(pf, ms, 0.0)
    ex.submit(order(Side.BUY, 15.0, 0.56, outcome=Outcome.NO), 0.0)
    (r,) = ex.process_due(0.0)
    assert r.fills[0].price == pytest.approx((10 * 0.55 + 5 * 0.56) / 15)
    assert pf.held("m1", Outcome.NO) == pytest.approx(15.0)


# --- property: no path opens a short --------------------------------------------------------

paper_ops = st.lists(
    st.tuples(
        st.sampled_from(["buy", "sell", "sell_fill", "process"]),
        st.sampled_from([Outcome.YES, Outcome.NO]),
        st.floats(min_value=0.01, max_value=40.0),
        st.floats(min_value=0.30, max_value=0.70),
    ),
    max_size=50,
)


@settings(max_examples=200, deadline=None)
@given(paper_ops)
def test_no_sequence_of_paper_orders_and_fills_opens_a_short(
    sequence: list[tuple[str, Outcome, float, float]],
) -> None:
    books = Books(market(fee_rate=0.05))
    for outcome in Outcome:
        books.set("m1", Side.BUY, [0.50, 0.55, 0.60], [10.0, 10.0, 10.0], outcome)
        books.set("m1", Side.SELL, [0.45, 0.40, 0.35], [10.0, 10.0, 10.0], outcome)
    pf = Portfolio(50.0)
    ex = PaperExecutor(pf, books, 0.5)
    now = 0.0
    for i, (op, outcome, size, limit) in enumerate(sequence):
        now += 0.3
        cash, held = pf.cash, pf.held("m1", outcome)
        if op == "buy":
            ex.submit(order(Side.BUY, size, limit, order_id=f"b{i}", outcome=outcome), now)
        elif op == "sell":
            ex.submit(order(Side.SELL, size, limit, order_id=f"s{i}", outcome=outcome), now)
        elif op == "sell_fill":
            f = fill(Side.SELL, size, limit, outcome=outcome, order_id=f"f{i}")
            try:
                pf.apply_fill(f)
            except ValueError:
                assert size > held  # refused only when it would have been a short
                assert (pf.cash, pf.held("m1", outcome)) == (cash, held)
        else:
            before = {o: pf.held("m1", o) for o in Outcome}
            bought = dict.fromkeys(Outcome, 0.0)
            sold = dict.fromkeys(Outcome, 0.0)
            for report in ex.process_due(now):  # a short would raise ShortSaleError here
                for f in report.fills:
                    (sold if f.side is Side.SELL else bought)[f.outcome] += f.size
                    assert f.size <= report.order.size + 1e-9
            for o in Outcome:
                assert sold[o] <= before[o] + bought[o] + 1e-9
        if op in ("sell", "sell_fill"):
            assert pf.cash >= cash
        assert all(p.size > 0 for p in pf.positions.values())
        assert pf.cash >= -1e-9  # buys never spend cash that is not there
    ex.process_due(now + 10.0)
    assert pf.reserved == 0.0
    assert all(p.size > 0 for p in pf.positions.values())
