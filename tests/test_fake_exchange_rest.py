"""The fake Polymarket's REST market data: shapes against the recordings, paging, errors."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import httpx
import pytest
from py_clob_client_v2.utilities import (
    generate_orderbook_summary_hash,
    parse_raw_orderbook_summary,
)

from fake_polymarket import FakePolymarket
from fake_polymarket.auth import hmac_signature
from fake_polymarket.wire import book_hash
from tests.fake_exchange_fixture import (
    fake_polymarket_fixture,  # noqa: F401  (registers the fixture)
    frozen_config,
    sim_settings,
)
from tests.recorded_fixtures import recorded


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def assert_same_types(
    ours: dict[str, Any], real: dict[str, Any], nullable: set[str] | None = None
) -> None:
    if nullable is None:
        nullable = set()
    for key in real.keys() & ours.keys():
        if key in nullable and None in (ours[key], real[key]):
            continue
        assert json_type(ours[key]) == json_type(real[key]), key


async def get(client: httpx.AsyncClient, url: str, **params: Any) -> Any:
    r = await client.get(url, params=params)
    assert r.status_code == 200, r.text
    return r.json()


# --- reference vectors ------------------------------------------------------------------------


def test_book_hash_matches_the_reference_vector() -> None:
    summary = {
        "market": "0xaabbcc",
        "asset_id": "100",
        "timestamp": "123456789",
        "hash": "",
        "bids": [{"price": "0.3", "size": "100"}, {"price": "0.4", "size": "100"}],
        "asks": [{"price": "0.6", "size": "100"}, {"price": "0.7", "size": "100"}],
        "min_order_size": "100",
        "tick_size": "0.01",
        "neg_risk": False,
        "last_trade_price": "0.5",
    }
    assert book_hash(summary) == "0458ea5755c9f73d64a14636fa5c36ed460ec394"


def test_l2_hmac_matches_the_reference_vector() -> None:
    sig = hmac_signature(
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "1000000",
        "test-sign",
        "/orders",
        '{"hash": "0x123"}',
    )
    assert sig == "ZwAdJKvoYRlEKDkNMwd5BuwNNtg93kNaR_oU2HrfVvc="


# --- Gamma ------------------------------------------------------------------------------------


async def test_gamma_market_has_the_recorded_keys_and_json_types(
    fake_polymarket: FakePolymarket,
) -> None:
    real = recorded("nautilus_rs__gamma_market.json")
    async with httpx.AsyncClient() as c:
        markets = await get(c, fake_polymarket.urls.gamma + "/markets", closed="false", limit=50)
    ours = next(m for m in markets if m["feesEnabled"])
    assert set(real) - set(ours) <= {"eventStartTime"}  # sports/crypto-series only
    assert_same_types(ours, real)
    for name in ("outcomes", "outcomePrices", "clobTokenIds", "umaResolutionStatuses"):
        assert isinstance(ours[name], str)
    assert json.loads(ours["outcomes"]) == ["Yes", "No"]
    tokens = json.loads(ours["clobTokenIds"])
    assert len(tokens) == 2 and all(t.isdigit() for t in tokens)
    prices = [float(p) for p in json.loads(ours["outcomePrices"])]
    assert sum(prices) == pytest.approx(1.0)
    assert isinstance(ours["volume"], str) and isinstance(ours["liquidity"], str)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ours["endDate"])
    assert ours["events"] and isinstance(ours["events"][0]["liquidity"], float | int)
    assert "tags" not in ours


async def test_gamma_resolved_market_matches_the_recorded_closed_market(
    fake_polymarket: FakePolymarket,
) -> None:
    real = recorded("nautilus_rs__gamma_market_closed_binary_accepting_true.json")
    await fake_polymarket.advance(2 * 3600)
    async with httpx.AsyncClient() as c:
        closed = await get(c, fake_polymarket.urls.gamma + "/markets", closed="true")
    assert closed, "a market ends within two hours in this world"
    m = closed[0]
    assert_same_types(m, real, nullable={"feeType"})
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00", m["closedTime"])
    assert json.loads(m["outcomePrices"]) in (["1", "0"], ["0", "1"])
    assert m["closed"] is True and m["acceptingOrders"] is False
    assert m["umaResolutionStatus"] == "resolved"


async def test_gamma_events_nest_markets_and_group_neg_risk_members(
    fake_polymarket: FakePolymarket,
) -> None:
    real = recorded("nautilus_rs__gamma_event.json")[0]
    async with httpx.AsyncClient() as c:
        events = await get(c, fake_polymarket.urls.gamma + "/events", closed="false", limit=100)
    group = next(e for e in events if e["negRisk"])
    specific = {"countryName", "electionType", "estimateValue", "cumulativeMarkets",
                "gmpChartMode", "startTime", "deployingTimestamp"}  # fmt: skip
    assert set(real) - set(group) <= specific
    assert_same_types(group, real)
    assert isinstance(group["liquidity"], float | int)  # numbers on events, strings on markets
    assert "___" in group["title"]
    assert len(group["markets"]) >= 3
    for m in group["markets"]:
        assert m["negRisk"] is True and m["negRiskMarketID"] == group["negRiskMarketID"]
        assert m["groupItemTitle"]
        assert isinstance(m["liquidity"], str)
    solo = next(e for e in events if not e["negRisk"])
    assert len(solo["markets"]) == 1 and "negRiskMarketID" not in solo


async def test_gamma_offset_pagination_and_filters(fake_polymarket: FakePolymarket) -> None:
    base = fake_polymarket.urls.gamma
    async with httpx.AsyncClient() as c:
        everything = await get(c, base + "/markets", closed="false", limit=500)
        pages: list[dict[str, Any]] = []
        offset = 0
        while True:
            chunk = await get(c, base + "/markets", closed="false", limit=7, offset=offset)
            pages.extend(chunk)
            if len(chunk) < 7:
                break
            offset += 7
        assert [m["id"] for m in pages] == [m["id"] for m in everything]
        assert len(everything) == 30

        a, b = everything[3], everything[9]
        tok_a, tok_b = json.loads(a["clobTokenIds"])[1], json.loads(b["clobTokenIds"])[0]
        r = await c.get(
            base + "/markets", params=[("clob_token_ids", tok_a), ("clob_token_ids", tok_b)]
        )
        assert {m["id"] for m in r.json()} == {a["id"], b["id"]}
        by_cid = await get(
            c, base + "/markets", condition_ids=f"{a['conditionId']},{b['conditionId']}"
        )
        assert {m["id"] for m in by_cid} == {a["id"], b["id"]}
        by_id = await get(c, base + "/markets", id=f"{a['id']},{b['id']}")
        assert {m["id"] for m in by_id} == {a["id"], b["id"]}
        assert (await get(c, base + f"/markets/{a['id']}"))["conditionId"] == a["conditionId"]
        assert (await get(c, base + f"/markets/slug/{a['slug']}"))["id"] == a["id"]
        assert (await c.get(base + "/markets/999")).status_code == 404

        tag = (await get(c, base + f"/markets/{a['id']}", include_tag="true"))["tags"][0]["id"]
        tagged = await get(
            c, base + "/markets", closed="false", limit=500, tag_id=tag, include_tag="true"
        )
        assert a["id"] in {m["id"] for m in tagged}
        assert all(m["tags"][0]["id"] == tag for m in tagged) and len(tagged) < len(everything)
        desc = await get(
            c, base + "/markets", closed="false", limit=500, order="volumeNum", ascending="false"
        )
        volumes = [m["volumeNum"] for m in desc]
        assert volumes == sorted(volumes, reverse=True)

        # docs/polymarket_api.md, gotcha G2, kept on purpose: leaving out `closed` on /events
        # gives closed events only.
        assert await get(c, base + "/events") == []
        assert (await c.get(base + "/status")).text == "OK"


# --- CLOB -------------------------------------------------------------------------------------


async def test_clob_book_has_every_field_sorted_and_a_client_verifiable_hash(
    fake_polymarket: FakePolymarket,
) -> None:
    real = recorded("nautilus_py__http_book.json")
    info = next(iter(fake_polymarket.world.catalog.markets.values()))
    yes, no = info.market.yes_token, info.market.no_token
    async with httpx.AsyncClient() as c:
        book = await get(c, fake_polymarket.urls.clob + "/book", token_id=yes)
        no_book = await get(c, fake_polymarket.urls.clob + "/book", token_id=no)
    current = {"min_order_size", "tick_size", "neg_risk", "last_trade_price"}
    assert set(book) == set(real) | current
    assert_same_types(book, real)
    for level in book["bids"] + book["asks"]:
        assert set(level) == {"price", "size"} and all(isinstance(v, str) for v in level.values())
    bids = [float(x["price"]) for x in book["bids"]]
    asks = [float(x["price"]) for x in book["asks"]]
    assert bids == sorted(bids) and asks == sorted(asks, reverse=True)  # best last
    assert bids[-1] < asks[-1]
    assert re.fullmatch(r"\d{13}", book["timestamp"])
    # The client library's own hash agrees with ours.
    assert generate_orderbook_summary_hash(parse_raw_orderbook_summary(book)) == book["hash"]
    # The NO book mirrors the YES book.
    assert [round(1 - float(x["price"]), 4) for x in no_book["asks"]] == [
        round(float(x["price"]), 4) for x in book["bids"]
    ]


async def test_clob_errors_are_polymarkets(fake_polymarket: FakePolymarket) -> None:
    base = fake_polymarket.urls.clob
    async with httpx.AsyncClient() as c:
        r = await c.get(base + "/book", params={"token_id": "not-a-token"})
        assert (r.status_code, r.json()) == (400, {"error": "Invalid token id"})
        r = await c.get(base + "/book", params={"token_id": "12345"})
        assert (r.status_code, r.json()) == (
            404,
            {"error": "No orderbook exists for the requested token id"},
        )
        r = await c.post(base + "/books", json=[{"token_id": "1"}] * 501)
        assert (r.status_code, r.json()) == (400, {"error": "Payload exceeds the limit"})
        r = await c.get(base + "/price", params={"token_id": "12345", "side": "BUY"})
        assert r.status_code == 404
        r = await c.get(base + "/markets/0x1234")
        assert (r.status_code, r.json()) == (400, {"error": "Invalid market"})


async def test_clob_prices_follow_the_book(fake_polymarket: FakePolymarket) -> None:
    base = fake_polymarket.urls.clob
    info = next(iter(fake_polymarket.world.catalog.markets.values()))
    tok = info.market.yes_token
    async with httpx.AsyncClient() as c:
        book = await get(c, base + "/book", token_id=tok)
        best_bid, best_ask = book["bids"][-1]["price"], book["asks"][-1]["price"]
        assert await get(c, base + "/price", token_id=tok, side="BUY") == {"price": best_bid}
        assert await get(c, base + "/price", token_id=tok, side="SELL") == {"price": best_ask}
        mid = (await get(c, base + "/midpoint", token_id=tok))["mid"]
        assert float(mid) == pytest.approx((float(best_bid) + float(best_ask)) / 2)
        spread = (await get(c, base + "/spread", token_id=tok))["spread"]
        assert float(spread) == pytest.approx(float(best_ask) - float(best_bid))
        prices = (await c.post(base + "/prices", json=[{"token_id": tok, "side": "SELL"}])).json()
        assert prices == {tok: {"SELL": float(best_ask)}}
        books = (await c.post(base + "/books", json=[{"token_id": tok}])).json()
        assert books[0]["hash"] == book["hash"]
        tick = await get(c, base + "/tick-size", token_id=tok)
        assert tick == {"minimum_tick_size": float(book["tick_size"])}
        assert await get(c, base + "/neg-risk", token_id=tok) == {"neg_risk": book["neg_risk"]}
        fee = await get(c, base + "/fee-rate", token_id=tok)
        assert fee == {"base_fee": round(info.market.fee_rate * 10_000)}
        assert await get(c, base + "/time") == int(fake_polymarket.world.clock.now())
        assert await get(c, base + "/version") == {"version": 2}
        compact = await get(c, base + f"/clob-markets/{info.market.market_id}")
        assert compact["c"] == info.market.market_id
        assert [t["t"] for t in compact["t"]] == [tok, info.market.no_token]
        assert compact["mts"] == float(book["tick_size"])


async def test_clob_markets_cursor_paging_walks_every_market() -> None:
    real = recorded("nautilus_py__http_market.json")
    async with FakePolymarket(sim_settings(), frozen_config(clob_page_size=8)) as fake:
        seen: list[str] = []
        cursor = "MA=="
        async with httpx.AsyncClient() as c:
            while cursor != "LTE=":
                page = await get(c, fake.urls.clob + "/markets", next_cursor=cursor)
                assert set(page) == {"data", "next_cursor", "limit", "count"}
                assert page["count"] == len(page["data"]) <= 8
                seen.extend(m["condition_id"] for m in page["data"])
                cursor = page["next_cursor"]
            one = await get(c, fake.urls.clob + f"/markets/{seen[0]}")
    assert seen == list(fake.world.catalog.markets)
    assert set(one) == set(real)
    assert_same_types(one, real, nullable={"game_start_time", "accepting_order_timestamp"})
    assert [t["outcome"] for t in one["tokens"]] == ["Yes", "No"]


async def test_prices_history_from_recorded_mids(fake_polymarket: FakePolymarket) -> None:
    await fake_polymarket.advance(2 * 3600)
    info = next(i for i in fake_polymarket.world.catalog.markets.values() if not i.closed)
    yes, no = info.market.yes_token, info.market.no_token
    base = fake_polymarket.urls.clob + "/prices-history"
    async with httpx.AsyncClient() as c:
        hour = (await get(c, base, market=yes, interval="1h"))["history"]
        coarse = (await get(c, base, market=yes, interval="1h", fidelity=10))["history"]
        now = int(fake_polymarket.world.clock.now())
        ranged = (await get(c, base, market=no, startTs=now - 1800, endTs=now))["history"]
        bad = await c.get(base, params={"market": yes})
    assert 55 <= len(hour) <= 61
    assert all(isinstance(p["t"], int) and isinstance(p["p"], float) for p in hour)
    assert all(b["t"] - a["t"] == 60 for a, b in itertools.pairwise(hour))
    assert all(b["t"] - a["t"] >= 600 for a, b in itertools.pairwise(coarse))
    by_t = {p["t"]: p["p"] for p in hour}
    assert ranged and all(
        p["p"] == pytest.approx(1 - by_t[p["t"]]) for p in ranged if p["t"] in by_t
    )
    assert bad.status_code == 400
