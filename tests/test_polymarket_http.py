"""Gamma and CLOB REST clients against `httpx.MockTransport`: retries, limits, paging."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from engine.models import Side
from engine.sources.polymarket import (
    ClobRestClient,
    EndpointLimiter,
    GammaClient,
    MarketQuery,
    PolymarketParseError,
    PolymarketRequestError,
    RetryPolicy,
    TokenBucket,
)
from engine.sources.polymarket.ratelimit import Limit
from engine.sources.polymarket.retry import retry_after_seconds

Handler = Callable[[httpx.Request], httpx.Response]


class FakeSleep:
    """Records waits instead of waiting: the tests stay fast and see every delay."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def gamma_client(handler: Handler, sleep: FakeSleep, **kw: Any) -> GammaClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return GammaClient(http, base_url="http://gamma.test", rng=random.Random(1), sleep=sleep, **kw)


def clob_client(handler: Handler, sleep: FakeSleep, **kw: Any) -> ClobRestClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return ClobRestClient(
        http, base_url="http://clob.test/", rng=random.Random(1), sleep=sleep, **kw
    )


def script(responses: list[httpx.Response | Exception]) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering from a list in order, keeping the requests it saw."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = responses[min(len(seen), len(responses)) - 1]
        if isinstance(item, Exception):
            raise item
        return item

    return handler, seen


OK_TIME = httpx.Response(200, json=1764612536)


# --- retries -------------------------------------------------------------------------------


async def test_429_waits_exactly_retry_after() -> None:
    sleep = FakeSleep()
    handler, seen = script([httpx.Response(429, headers={"Retry-After": "2"}), OK_TIME])
    assert await clob_client(handler, sleep).server_time() == 1764612536.0
    assert len(seen) == 2 and sleep.calls == [2.0]


async def test_429_with_http_date_retry_after() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    sleep = FakeSleep()
    handler, _ = script([httpx.Response(429, headers={"Retry-After": when}), OK_TIME])
    await clob_client(handler, sleep).server_time()
    assert len(sleep.calls) == 1 and 28 <= sleep.calls[0] <= 30


async def test_429_without_retry_after_backs_off() -> None:
    sleep = FakeSleep()
    handler, _ = script([httpx.Response(429), OK_TIME])
    await clob_client(handler, sleep).server_time()
    assert len(sleep.calls) == 1 and 0.25 <= sleep.calls[0] <= 0.5


async def test_retry_after_beyond_the_cap_gives_up_at_once() -> None:
    sleep = FakeSleep()
    handler, seen = script([httpx.Response(429, headers={"Retry-After": "3600"}), OK_TIME])
    with pytest.raises(PolymarketRequestError, match="Retry-After 3600 s") as exc:
        await clob_client(handler, sleep, policy=RetryPolicy(max_retry_after=60)).server_time()
    assert exc.value.status == 429 and len(seen) == 1 and sleep.calls == []


async def test_5xx_burst_retried_with_growing_jittered_backoff() -> None:
    sleep = FakeSleep()
    burst: list[httpx.Response | Exception] = [httpx.Response(s) for s in (503, 502, 500, 504)]
    handler, seen = script([*burst, OK_TIME])
    policy = RetryPolicy(attempts=5, base_seconds=1.0, max_seconds=4.0)
    assert await clob_client(handler, sleep, policy=policy).server_time() > 0
    assert len(seen) == 5
    for i, delay in enumerate(sleep.calls):  # equal jitter: in [d/2, d], d = min(4, 2**i)
        full = min(4.0, 2.0**i)
        assert full / 2 <= delay <= full
    assert sleep.calls[2] >= 2.0 and sleep.calls[3] >= 2.0  # capped at 4: >= 4/2


async def test_gives_up_after_n_tries_with_a_clear_error() -> None:
    sleep = FakeSleep()
    handler, seen = script([httpx.Response(503, json={"error": "Trading is currently disabled"})])
    with pytest.raises(PolymarketRequestError) as exc:
        await clob_client(handler, sleep, policy=RetryPolicy(attempts=3)).server_time()
    err = exc.value
    assert (err.status, err.attempts, len(seen), len(sleep.calls)) == (503, 3, 3, 2)
    assert "GET http://clob.test/time failed after 3 attempts (HTTP 503)" in str(err)
    assert "Trading is currently disabled" in str(err)


async def test_timeouts_and_network_errors_are_retried() -> None:
    sleep = FakeSleep()
    handler, seen = script([httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), OK_TIME])
    assert await clob_client(handler, sleep).server_time() > 0
    assert len(seen) == 3 and len(sleep.calls) == 2


async def test_persistent_timeout_error_says_so() -> None:
    handler, _ = script([httpx.ConnectTimeout("no route")])
    with pytest.raises(PolymarketRequestError, match="ConnectTimeout") as exc:
        await clob_client(handler, FakeSleep(), policy=RetryPolicy(attempts=2)).server_time()
    assert exc.value.status is None and exc.value.attempts == 2


async def test_client_errors_are_not_retried() -> None:
    sleep = FakeSleep()
    handler, seen = script([httpx.Response(400, json={"error": "Invalid token id"})])
    with pytest.raises(PolymarketRequestError, match="Invalid token id") as exc:
        await clob_client(handler, sleep).book("nope")
    assert exc.value.status == 400 and len(seen) == 1 and sleep.calls == []


@pytest.mark.parametrize("body", [b'{"history": [{"t": 1, "p"', b"<html>502</html>", b""])
async def test_malformed_json_is_a_parse_error_not_a_retry(body: bytes) -> None:
    handler, seen = script([httpx.Response(200, content=body)])
    with pytest.raises(PolymarketParseError, match="not valid JSON"):
        await clob_client(handler, FakeSleep()).prices_history("tok", interval="1d")
    assert len(seen) == 1


async def test_well_formed_json_of_the_wrong_shape_names_the_field() -> None:
    handler, _ = script([httpx.Response(200, json={"minimum_tick_size": "abc"})])
    with pytest.raises(PolymarketParseError, match="minimum_tick_size"):
        await clob_client(handler, FakeSleep()).tick_size("tok")


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(" 1.5 ") == 1.5
    assert retry_after_seconds("") is None and retry_after_seconds(None) is None
    assert retry_after_seconds("soonish") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0) == 0.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


# --- Gamma paging and filters --------------------------------------------------------------


def market_rows(n: int) -> list[dict[str, Any]]:
    return [{"id": str(i), "conditionId": f"0x{i:064x}"} for i in range(n)]


def paged(rows: list[dict[str, Any]], wrap: bool = False) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        offset = int(request.url.params["offset"])
        limit = int(request.url.params["limit"])
        page = rows[offset : offset + limit]
        return httpx.Response(200, json={"data": page} if wrap else page)

    return handler, seen


async def test_markets_pagination_until_a_short_page() -> None:
    handler, seen = paged(market_rows(250))
    client = gamma_client(handler, FakeSleep(), page_size=100)
    pages = [p async for p in client.iter_markets(MarketQuery(order="volume24hr", ascending=False))]
    assert [len(p) for p in pages] == [100, 100, 50]
    assert [r.url.params["offset"] for r in seen] == ["0", "100", "200"]
    params = seen[0].url.params
    assert seen[0].url.path == "/markets"
    assert (params["closed"], params["active"], params["archived"]) == ("false", "true", "false")
    assert (params["order"], params["ascending"], params["limit"]) == ("volume24hr", "false", "100")


async def test_pagination_exact_multiple_stops_on_empty_page() -> None:
    handler, seen = paged(market_rows(200), wrap=True)
    rows = await gamma_client(handler, FakeSleep(), page_size=100).markets()
    assert len(rows) == 200 and len(seen) == 3


async def test_max_items_shrinks_the_last_page() -> None:
    handler, seen = paged(market_rows(1000))
    rows = await gamma_client(handler, FakeSleep(), page_size=100).markets(max_items=230)
    assert len(rows) == 230 and [r.url.params["limit"] for r in seen] == ["100", "100", "30"]


async def test_a_server_ignoring_offset_is_not_paged_forever() -> None:
    rows = market_rows(100)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=rows)

    got = await gamma_client(handler, FakeSleep(), page_size=100).markets()
    assert len(got) == 100 and len(seen) == 2


async def test_list_filters_are_encoded_as_gamma_expects() -> None:
    handler, seen = script([httpx.Response(200, json=[])])
    q = MarketQuery(
        closed=True,
        active=None,
        tag_id=21,
        condition_ids=("0xa", "0xb"),
        clob_token_ids=("11", "22"),
        liquidity_num_min=500.0,
    )
    await gamma_client(handler, FakeSleep()).markets_page(q)
    params = seen[0].url.params
    assert params.get_list("clob_token_ids") == ["11", "22"]  # repeated, not joined
    assert params["condition_ids"] == "0xa,0xb"
    assert params["closed"] == "true" and "active" not in params and params["tag_id"] == "21"
    assert params["liquidity_num_min"] == "500.0" and "ascending" not in params


async def test_events_tags_and_single_market_paths() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/markets/42":
            return httpx.Response(200, json={"id": "42"})
        return httpx.Response(200, json=[{"id": "1"}])

    client = gamma_client(handler, FakeSleep())
    assert await client.events() == [{"id": "1"}]
    assert await client.tags() == [{"id": "1"}]
    assert await client.market("42") == {"id": "42"}
    assert [r.url.path for r in seen] == ["/events", "/tags", "/markets/42"]
    assert seen[0].url.params["closed"] == "false"


async def test_listing_of_the_wrong_shape_is_a_parse_error() -> None:
    handler, _ = script([httpx.Response(200, json={"error": "nope"})])
    with pytest.raises(PolymarketParseError, match="array of objects"):
        await gamma_client(handler, FakeSleep()).markets_page()


# --- CLOB endpoints ------------------------------------------------------------------------


def book_json(token: str) -> dict[str, Any]:
    return {
        "market": "0xm",
        "asset_id": token,
        "timestamp": "1700000000000",
        "hash": "h",
        "bids": [{"price": "0.4", "size": "10"}],
        "asks": [{"price": "0.6", "size": "5"}],
    }


async def test_books_are_fetched_in_chunks_in_order() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = json.loads(request.content)
        return httpx.Response(200, json=[book_json(item["token_id"]) for item in body])

    tokens = [str(i) for i in range(250)]
    books = await clob_client(handler, FakeSleep(), books_batch_size=100).books(tokens)
    assert [b.asset_id for b in books] == tokens
    assert [len(json.loads(r.content)) for r in seen] == [100, 100, 50]
    assert all(r.method == "POST" and r.url.path == "/books" for r in seen)
    assert seen[0].headers["content-type"] == "application/json"
    assert books[0].bid_px.tolist() == [0.4] and books[0].ask_px.tolist() == [0.6]


async def test_price_endpoints_send_the_documented_parameters() -> None:
    seen: list[httpx.Request] = []
    answers = {
        "/price": {"price": "0.52"},
        "/midpoint": {"mid": "0.51"},
        "/spread": {"spread": "0.02"},
        "/tick-size": {"minimum_tick_size": 0.001},
        "/neg-risk": {"neg_risk": False},
        "/fee-rate": {"base_fee": "150"},
        "/book": book_json("7"),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answers[request.url.path])

    c = clob_client(handler, FakeSleep())
    assert await c.price("7", Side.BUY) == 0.52
    assert await c.midpoint("7") == 0.51
    assert await c.spread("7") == 0.02
    assert await c.tick_size("7") == 0.001
    assert await c.neg_risk("7") is False
    assert await c.fee_rate_bps("7") == 150
    assert (await c.book("7")).asset_id == "7"
    assert all(r.url.params["token_id"] == "7" for r in seen)
    assert seen[0].url.params["side"] == "BUY"


async def test_prices_history_interval_xor_range() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"history": [{"t": 1, "p": 0.5}]})

    c = clob_client(handler, FakeSleep())
    h = await c.prices_history("tok", interval="1w", fidelity=5)
    assert h.token_id == "tok" and h.price.tolist() == [0.5]
    await c.prices_history("tok", start_ts=100, end_ts=200)
    p0, p1 = seen[0].url.params, seen[1].url.params
    assert (p0["market"], p0["interval"], p0["fidelity"]) == ("tok", "1w", "5")
    assert "startTs" not in p0 and (p1["startTs"], p1["endTs"]) == ("100", "200")
    assert "interval" not in p1
    for bad in (
        {},
        {"interval": "1d", "start_ts": 1, "end_ts": 2},
        {"start_ts": 1},
        {"start_ts": 5, "end_ts": 5},
        {"interval": "1d", "fidelity": 0},
    ):
        with pytest.raises(ValueError):
            await c.prices_history("tok", **bad)
    assert len(seen) == 2  # refused before any request


# --- rate limits ---------------------------------------------------------------------------


class ManualClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


async def test_token_bucket_admits_a_burst_then_paces() -> None:
    clock, sleep = ManualClock(), FakeSleep()
    bucket = TokenBucket(rate=10.0, capacity=3.0, clock=clock, sleep=sleep)
    waits = [await bucket.acquire() for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.1) and waits[4] == pytest.approx(0.2)  # queued in order
    clock.t = 10.0  # long idle: refilled to capacity, not beyond
    assert [await bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await bucket.acquire() == pytest.approx(0.1)


async def test_endpoint_limiter_waits_for_the_tightest_group() -> None:
    clock, sleep = ManualClock(), FakeSleep()
    limiter = EndpointLimiter(
        {"all": Limit(100, 10.0), "books": Limit(10, 10.0)}, share=1.0, clock=clock, sleep=sleep
    )
    assert await limiter.acquire("all", "books") == 0.0  # books: rate 1/s, capacity 1
    assert await limiter.acquire("all", "books") == pytest.approx(1.0)
    assert await limiter.acquire("all") == 0.0
    with pytest.raises(KeyError):
        await limiter.acquire("typo")


def test_documented_limits_are_never_exceeded_in_any_window() -> None:
    """Capacity + rate × window <= the documented count (the sliding window the server
    counts), for every group, at the default share."""
    from engine.sources.polymarket.ratelimit import CLOB_LIMITS, GAMMA_LIMITS

    for limits in (GAMMA_LIMITS, CLOB_LIMITS):
        limiter = EndpointLimiter(limits)
        for name, lim in limits.items():
            b = limiter.buckets[name]
            assert b.capacity + b.rate * lim.window_seconds <= lim.requests


async def test_client_requests_go_through_the_limiter() -> None:
    clock, sleep = ManualClock(), FakeSleep()
    limiter = EndpointLimiter({"clob": Limit(10, 10.0)}, share=1.0, clock=clock, sleep=sleep)
    handler, _ = script([OK_TIME])
    c = clob_client(handler, sleep, limiter=limiter)
    for _ in range(3):
        await c.server_time()
    assert sleep.calls == [pytest.approx(1.0), pytest.approx(2.0)]
