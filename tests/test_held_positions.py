"""Positions the wallet holds (Data API `/positions`): the reader, the fake's route, and how
the engine's books take them in."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx
import pytest

from engine.execution.clob_answers import AnswerError
from engine.execution.held_positions import HeldPosition, parse_positions
from engine.execution.live_account import adopt_holdings
from engine.execution.portfolio import Portfolio
from engine.models import Outcome
from fake_polymarket import FakePolymarket
from tests.fake_exchange_fixture import fake_polymarket_fixture  # noqa: F401
from tests.recorded_fixtures import recorded
from tests.test_fake_exchange_rest import assert_same_types

ROWS = "nautilus_rs__data_api_positions_response.json"


def row(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "asset": "101",
        "conditionId": "0xm1",
        "size": "12.5",
        "avgPrice": 0.4,
        "outcomeIndex": 1,
        "redeemable": False,
        "title": "Will it rain?",
    }
    base.update(over)
    return base


def test_held_shares_are_valued_at_the_current_price_the_api_gives() -> None:
    pf = Portfolio(0.0)
    held = parse_positions(
        [
            row(size=10, avgPrice=0.5, curPrice="0.7"),
            row(asset="2", conditionId="0xm2", size=4, curPrice="n/a"),
        ]
    )
    assert [h.cur_price for h in held] == [Decimal("0.7"), None]  # unreadable: not used
    adopt_holdings(pf, held)
    assert pf.take_brought_in() == pytest.approx(10 * 0.7 + 4 * 0.4)


def test_numbers_as_text_or_json_numbers_read_the_same() -> None:
    (a,) = parse_positions([row(size="12.5", avgPrice="0.4")])
    (b,) = parse_positions([row(size=12.5, avgPrice=0.4)])
    assert (
        a
        == b
        == HeldPosition(
            "101", "0xm1", Outcome.NO, Decimal("12.5"), Decimal("0.4"), False, "Will it rain?"
        )
    )


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"error": "bad"}, "not a list"),
        (["x"], "positions[0] is not an object"),
        ([row(size=None)], "positions[0].size is missing"),
        ([row(avgPrice="n/a")], "not a number"),
        ([row(size="-3")], "out of range"),
        ([row(avgPrice=1.5)], "out of range"),
        ([row(), row(outcomeIndex=2)], "positions[1].outcomeIndex '2'"),
        ([row(asset="")], "positions[0].asset is missing"),
    ],
)
def test_unreadable_answers_are_refused_naming_the_field(body: object, says: str) -> None:
    with pytest.raises(AnswerError, match=re.escape(says)):
        parse_positions(body)


def test_adopting_brings_the_books_up_to_the_exchange_and_leaves_cash_alone() -> None:
    pf = Portfolio(500.0)
    held = parse_positions(
        [row(size=10, avgPrice=0.5), row(asset="9", conditionId="0xm2", size=5, redeemable=True)]
    )
    lines = adopt_holdings(pf, held)
    assert lines[0] == "exchange: 1 position(s) held"
    assert "Will it rain? NO +10.00 sh" in lines[1] and "1 resolved position(s)" in lines[2]
    pos = pf.positions[("0xm1", Outcome.NO)]
    assert (pos.size, pos.avg_price, pf.cash) == (10, 0.5, 500.0)
    assert pf.take_brought_in() == pytest.approx(10 * 0.5)  # no curPrice: valued at cost
    # Again: on the books already, kept as booked. `adopt` itself takes only the surplus.
    assert adopt_holdings(pf, held) == [
        "exchange: 1 position(s) held",
        "1 token(s) already on the engine's books are kept as booked (the Data API may lag a sale)",
        "1 resolved position(s) wait to be redeemed on Polymarket (not traded)",
    ]
    assert pos.size == 10
    assert pf.adopt("0xm1", Outcome.NO, 15.0, 0.8) == pytest.approx(5.0)
    assert pos.size == 15 and pos.avg_price == pytest.approx((10 * 0.5 + 5 * 0.8) / 15)
    assert pf.adopt("0xm1", Outcome.NO, 12.0, 0.8) == 0.0  # fewer than held: left alone
    assert pf.adopt("0xm3", Outcome.YES, 3.0, 1.7) == 0.0  # not a price
    assert pf.cash == 500.0


async def test_the_fake_serves_positions_in_the_data_api_shape(
    fake_polymarket: FakePolymarket,
) -> None:
    fake = fake_polymarket
    info = next(i for i in fake.world.catalog.markets.values() if not i.closed)
    m = info.market
    who = "0x" + "ab" * 20
    fake.exchange.fund(who, usdc=100, tokens={m.no_token: 7.5, m.yes_token: 0.001})
    async with httpx.AsyncClient() as c:
        r = await c.get(f"{fake.urls.data}/positions", params={"user": who, "sizeThreshold": 0.01})
        assert r.status_code == 200, r.text
        (got,) = r.json()  # the dust is under the threshold
        missing = await c.get(f"{fake.urls.data}/positions")
        pages = [
            (
                await c.get(
                    f"{fake.urls.data}/positions",
                    params={"user": who, "sizeThreshold": 0, "limit": 1, "offset": offset},
                )
            ).json()
            for offset in (0, 1, 2)
        ]
    assert_same_types(got, recorded(ROWS)[0])
    assert got["asset"] == m.no_token and got["outcomeIndex"] == 1 and got["size"] == 7.5
    assert got["conditionId"] == m.market_id and got["title"] == m.question
    (held,) = parse_positions([got])
    assert held.outcome is Outcome.NO and held.shares == Decimal("7.5")
    assert missing.status_code == 400 and "user" in missing.json()["error"]
    assert [len(p) for p in pages] == [1, 1, 0]  # dust included at threshold 0
    assert {p[0]["asset"] for p in pages[:2]} == {m.yes_token, m.no_token}
    assert 0 < got["avgPrice"] < 1  # credited without a trade: valued at the mid
