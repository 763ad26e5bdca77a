"""Trading on the fake: the real py_clob_client_v2 end to end, validation, fills, settlement."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from py_clob_client_v2 import ClobClient, MarketOrderArgs, OrderArgs, OrderType
from py_clob_client_v2.clob_types import AssetType, BalanceAllowanceParams, TradeParams
from py_clob_client_v2.exceptions import PolyApiException

from fake_polymarket import FakePolymarket, ThreadedFakePolymarket
from fake_polymarket.catalog import MarketInfo
from fake_polymarket.orderbook import MarketBook
from tests.fake_exchange_fixture import (
    OTHER_WALLET_KEY,
    WALLET_KEY,
    Trader,
    fake_polymarket_fixture,  # noqa: F401  (registers the fixture)
    fake_polymarket_thread_fixture,  # noqa: F401
    frozen_config,
    sim_settings,
)
from tests.recorded_fixtures import recorded

USDC = 1_000_000  # amount units per dollar / share


def open_market(
    fake: FakePolymarket, *, tick: int = 100, wide: bool = False
) -> tuple[MarketInfo, MarketBook]:
    """A market open for trading on a 0.01 grid (wide: bid and ask at least two ticks apart)."""
    for info in sorted(fake.world.catalog.markets.values(), key=lambda i: -i.market.liquidity):
        book = fake.world.books[info.market.market_id]
        bid, ask = book.best(True), book.best(False)
        if info.closed or book.tick != tick or bid is None or ask is None:
            continue
        if not wide or ask - bid >= 2 * tick:
            return info, book
    raise AssertionError("no such market in this world")


def best(book: MarketBook, bid: bool) -> float:
    px = book.best(bid)
    assert px is not None
    return px / 10_000


def test_py_clob_client_v2_round_trip(fake_polymarket_thread: ThreadedFakePolymarket) -> None:
    t = fake_polymarket_thread
    client = ClobClient(t.urls.clob, 137, key=WALLET_KEY)
    creds = client.create_or_derive_api_key()
    assert client.create_or_derive_api_key() == creds  # create refused, derive returns the same
    client.set_api_creds(creds)
    info, _book = t.call(open_market, t.fake)
    yes = info.market.yes_token
    ask = float(client.get_order_book(yes)["asks"][-1]["price"])

    result = client.create_and_post_order(OrderArgs(token_id=yes, price=ask, size=10, side="BUY"))
    assert result["success"] is True and result["status"] == "matched"
    assert result["takingAmount"] == "10" and float(result["makingAmount"]) == pytest.approx(
        10 * ask
    )
    (trade,) = client.get_trades(TradeParams(id=result["tradeIDs"][0]))
    assert trade["taker_order_id"] == result["orderID"] and trade["trader_side"] == "TAKER"
    assert set(recorded("nautilus_py__ws_trades.json")) == set(trade)

    collateral = client.get_balance_allowance(
        BalanceAllowanceParams(asset_type=AssetType.COLLATERAL)
    )
    assert int(collateral["balance"]) == 10_000 * USDC - round(10 * ask * USDC)
    shares = client.get_balance_allowance(
        BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=yes)
    )
    # the taker fee on a BUY is paid in shares: the market's USDC fee at the ask, / the ask
    fee_shares = info.market.fees.fee(10, ask) / ask
    assert int(shares["balance"]) == pytest.approx((10 - fee_shares) * USDC, abs=1)

    bid = float(client.get_order_book(yes)["bids"][-1]["price"])
    resting = client.create_and_post_order(
        OrderArgs(token_id=yes, price=round(bid - 0.02, 2), size=10, side="BUY")
    )
    assert resting["status"] == "live" and resting["takingAmount"] == ""
    (open_order,) = client.get_open_orders()
    assert open_order["id"] == resting["orderID"] and open_order["status"] == "LIVE"
    assert set(open_order) == set(recorded("nautilus_rs__http_open_order.json"))
    assert client.cancel_all() == {"canceled": [resting["orderID"]], "not_canceled": {}}
    assert client.get_open_orders() == []

    no = client.create_and_post_market_order(
        MarketOrderArgs(token_id=info.market.no_token, amount=5, side="BUY"),
        order_type=OrderType.FOK,
    )
    assert no["status"] == "matched" and float(no["makingAmount"]) == pytest.approx(5, abs=0.01)


async def expect_error(trader: Trader, body: Any, message: str, path: str = "/order") -> None:
    r = await trader.request("POST", path, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"].startswith(message) or message in r.json()["error"], r.json()


async def test_orders_are_validated_as_polymarket_does(fake_polymarket: FakePolymarket) -> None:
    trader = await Trader(fake_polymarket).login()
    other = await Trader(fake_polymarket, OTHER_WALLET_KEY).login()
    info, book = open_market(fake_polymarket, wide=True)
    yes = info.market.yes_token
    bid, ask = best(book, True), best(book, False)

    off_grid = trader.signed(yes, round(bid - 0.015, 3), 10, tick="0.001")
    await expect_error(trader, off_grid, "breaks minimum tick size rule: 0.01")
    await expect_error(trader, trader.signed(yes, bid, 2), "Size (2) lower than the minimum: 5")
    await expect_error(
        trader, trader.signed(yes, ask, 1, order_type="FOK"), "invalid amount for a marketable BUY"
    )
    await expect_error(
        trader,
        trader.signed(yes, ask, 5, post_only=True),
        "invalid post-only order: order crosses book",
    )
    huge = trader.signed(yes, bid, 100_000)
    await expect_error(trader, huge, "not enough balance / allowance")
    gtd = trader.signed(
        yes, bid, 10, order_type="GTD", expiration=int(fake_polymarket.world.clock.now()) + 30
    )
    await expect_error(trader, gtd, "invalid expiration")

    tampered = trader.signed(yes, bid, 10)
    tampered["order"]["makerAmount"] = str(int(tampered["order"]["makerAmount"]) + 1)
    await expect_error(trader, tampered, "invalid signature")
    theirs = other.signed(yes, bid, 10)
    await expect_error(trader, theirs, "the order owner has to be the owner of the API KEY")
    theirs["owner"] = trader.client.creds.api_key if trader.client.creds else ""
    await expect_error(
        trader, theirs, "the order signer address has to be the address of the API KEY"
    )

    ok = trader.signed(yes, bid, 10)
    first = await trader.request("POST", "/order", ok)
    assert first.status_code == 200 and first.json()["status"] == "live"
    await expect_error(trader, ok, f"order {first.json()['orderID']} is invalid. Duplicated.")

    sells = trader.signed(yes, ask, 10, side="SELL")  # holds no YES: Polymarket cannot short
    await expect_error(trader, sells, "not enough balance / allowance")


async def test_fok_is_all_or_nothing_and_fak_keeps_what_filled(
    fake_polymarket: FakePolymarket,
) -> None:
    trader = await Trader(fake_polymarket).login()
    info, book = open_market(fake_polymarket)
    yes = info.market.yes_token
    ask = best(book, False)
    top = book.ladder(False)[0][1] / USDC
    fake_polymarket.exchange.fund(trader.address, usdc=1_000_000)

    fok = trader.signed(yes, ask, top + 50, order_type="FOK")
    await expect_error(trader, fok, "order couldn't be fully filled. FOK orders are fully filled")
    below = round(best(book, True), 2)
    await expect_error(trader, trader.signed(yes, below, 10, order_type="FAK"),
                       "no orders found to match with FAK order.")  # fmt: skip
    r = await trader.request("POST", "/order", trader.signed(yes, ask, top + 50, order_type="FAK"))
    assert r.status_code == 200 and r.json()["status"] == "matched"
    assert float(r.json()["takingAmount"]) == pytest.approx(top)
    assert fake_polymarket.exchange.orders[r.json()["orderID"]].status == "CANCELED"
    assert fake_polymarket.exchange.open_orders(trader.address) == []


async def test_batch_orders_report_each_leg(fake_polymarket: FakePolymarket) -> None:
    trader = await Trader(fake_polymarket).login()
    info, book = open_market(fake_polymarket)
    bid = best(book, True)
    legs = [
        trader.signed(info.market.yes_token, bid, 10),
        trader.signed(info.market.yes_token, bid, 1),
    ]
    r = await trader.request("POST", "/orders", legs)
    first, second = r.json()
    assert first["success"] is True and first["orderID"]
    assert second["orderID"] == "" and "lower than the minimum" in second["errorMsg"]
    r = await trader.request("POST", "/orders", [legs[0]] * 16)
    assert (
        r.status_code == 400
        and r.json()["error"] == "Too many orders in payload: 16, max allowed: 15"
    )


async def test_open_orders_hold_balance(fake_polymarket: FakePolymarket) -> None:
    trader = await Trader(fake_polymarket).login()
    info, book = open_market(fake_polymarket)
    fake_polymarket.exchange.fund(trader.address, usdc=10)
    price = round(best(book, True) - 0.05, 2)
    size = round(6 / price, 2)
    r = await trader.request("POST", "/order", trader.signed(info.market.yes_token, price, size))
    assert r.json()["status"] == "live"
    await expect_error(
        trader, trader.signed(info.market.yes_token, price, size), "not enough balance / allowance"
    )


async def test_resting_order_is_filled_by_the_simulated_market(
    fake_polymarket: FakePolymarket,
) -> None:
    trader = await Trader(fake_polymarket).login()
    info, book = open_market(fake_polymarket, wide=True)
    price = round(best(book, True) + 0.01, 2)  # better than the best bid, not crossing
    r = await trader.request("POST", "/order", trader.signed(info.market.yes_token, price, 5))
    order = fake_polymarket.exchange.orders[r.json()["orderID"]]
    assert order.status == "LIVE"
    for _ in range(48):
        await fake_polymarket.advance(1800)
        if order.matched:
            break
    assert order.matched > 0, "a resting bid above the best bid is hit sooner or later"
    trades = (await trader.request("GET", "/data/trades")).json()["data"]
    assert trades and all(t["trader_side"] == "MAKER" for t in trades)
    mine = [m for t in trades for m in t["maker_orders"] if m["order_id"] == order.id]
    assert sum(float(m["matched_amount"]) for m in mine) * USDC == pytest.approx(order.matched)
    acct = fake_polymarket.exchange.account(trader.address)
    assert acct.tokens[info.market.yes_token] == order.matched  # makers pay no fee
    assert acct.usdc == 10_000 * USDC - order.matched * round(price * 10_000) // 10_000


async def test_trades_move_from_matched_to_confirmed(fake_polymarket: FakePolymarket) -> None:
    trader = await Trader(fake_polymarket).login()
    info, book = open_market(fake_polymarket)
    r = await trader.request(
        "POST", "/order", trader.signed(info.market.yes_token, best(book, False), 5)
    )
    trade_id = r.json()["tradeIDs"][0]

    async def status() -> str:
        rows = (await trader.request("GET", f"/data/trades?id={trade_id}")).json()["data"]
        return str(rows[0]["status"])

    assert await status() == "MATCHED"
    await fake_polymarket.advance(3)
    assert await status() == "MINED"
    await fake_polymarket.advance(5)
    assert await status() == "CONFIRMED"


async def test_missed_heartbeat_cancels_every_order(fake_polymarket: FakePolymarket) -> None:
    trader = await Trader(fake_polymarket).login()
    info, book = open_market(fake_polymarket)
    r = await trader.request(
        "POST", "/order", trader.signed(info.market.yes_token, best(book, True) - 0.02, 10)
    )
    hb = (await trader.request("POST", "/v1/heartbeats", {"heartbeat_id": ""})).json()
    await fake_polymarket.advance(5)
    hb = (
        await trader.request("POST", "/v1/heartbeats", {"heartbeat_id": hb["heartbeat_id"]})
    ).json()
    await fake_polymarket.advance(5)
    assert fake_polymarket.exchange.orders[r.json()["orderID"]].status == "LIVE"
    await fake_polymarket.advance(6)
    assert fake_polymarket.exchange.orders[r.json()["orderID"]].status == "CANCELED"


async def test_resolution_cancels_orders_and_pays_out(fake_polymarket: FakePolymarket) -> None:
    trader = await Trader(fake_polymarket).login()
    ending = min(fake_polymarket.world.catalog.markets.values(), key=lambda i: i.market.end_ts)
    book = fake_polymarket.world.books[ending.market.market_id]
    tick = book.tick / 10_000
    ask = best(book, False)
    r = await trader.request(
        "POST", "/order", trader.signed(ending.market.yes_token, ask, 20, tick=str(tick))
    )
    assert r.json()["status"] == "matched"
    resting = trader.signed(ending.market.no_token, round(tick * 2, 4), 10, tick=str(tick))
    rest_id = (await trader.request("POST", "/order", resting)).json()["orderID"]
    acct = fake_polymarket.exchange.account(trader.address)
    usdc_before, shares = acct.usdc, acct.tokens[ending.market.yes_token]
    await fake_polymarket.advance(2 * 3600)
    assert ending.closed and ending.market.payout_yes is not None
    assert acct.usdc == usdc_before + int(shares * ending.market.payout_yes)
    assert ending.market.yes_token not in acct.tokens
    assert fake_polymarket.exchange.orders[rest_id].status == "CANCELED_MARKET_RESOLVED"
    await expect_error(trader, trader.signed(ending.market.yes_token, ask, 5, tick=str(tick)),
                       "the market is not yet ready to process new orders")  # fmt: skip


async def test_bad_credentials_are_refused(fake_polymarket: FakePolymarket) -> None:
    trader = await Trader(fake_polymarket).login()
    base = fake_polymarket.urls.clob
    async with httpx.AsyncClient() as c:
        r = await c.get(base + "/data/orders", headers={"POLY_API_KEY": "nope"})
        assert (r.status_code, r.json()) == (401, {"error": "Unauthorized/Invalid api key"})
        forged = {"POLY_ADDRESS": trader.address, "POLY_SIGNATURE": "0x" + "11" * 65,
                  "POLY_TIMESTAMP": "1", "POLY_NONCE": "0"}  # fmt: skip
        r = await c.get(base + "/auth/derive-api-key", headers=forged)
        assert (r.status_code, r.json()) == (401, {"error": "Invalid L1 Request headers"})
    creds = trader.client.creds
    assert creds is not None
    good = await trader.request("GET", "/data/orders")
    assert good.status_code == 200 and json.loads(good.text)["next_cursor"] == "LTE="
    # The signature covers the body: the same headers with another body are refused.
    text = json.dumps({"orderID": "0x2"}, separators=(",", ":"))
    r = await trader.request("DELETE", "/order", {"orderID": "0x1"})
    assert r.status_code == 200 and r.json()["not_canceled"] == {
        "0x1": "already canceled or matched"
    }
    async with httpx.AsyncClient() as c:
        headers = {k: v for k, v in r.request.headers.items() if k.upper().startswith("POLY_")}
        resent = await c.request("DELETE", base + "/order", content=text, headers=headers)
    assert resent.status_code == 401
    with pytest.raises(PolyApiException):
        ClobClient(base, 137, key=OTHER_WALLET_KEY).derive_api_key()  # never created


async def test_gtd_orders_expire_as_cancellations(fake_polymarket: FakePolymarket) -> None:
    trader = await Trader(fake_polymarket).login()
    info, book = open_market(fake_polymarket)
    expiry = int(fake_polymarket.world.clock.now()) + 120
    body = trader.signed(info.market.yes_token, best(book, True) - 0.02, 10, order_type="GTD",
                         expiration=expiry)  # fmt: skip
    order_id = (await trader.request("POST", "/order", body)).json()["orderID"]
    (row,) = (await trader.request("GET", "/data/orders")).json()["data"]
    assert row["order_type"] == "GTD" and row["expiration"] == str(expiry)
    await fake_polymarket.advance(110)
    assert fake_polymarket.exchange.orders[order_id].status == "LIVE"
    await fake_polymarket.advance(20)
    assert fake_polymarket.exchange.orders[order_id].status == "CANCELED"
    assert (await trader.request("GET", f"/data/order/{order_id}")).json() is None


def test_stale_timestamps_are_refused_unless_the_client_uses_server_time() -> None:
    config = frozen_config(auth_max_skew_s=30.0)  # fake clock: 2026-01-01, far from wall time
    with ThreadedFakePolymarket(sim_settings(), config) as t:
        wall = ClobClient(t.urls.clob, 137, key=WALLET_KEY)
        with pytest.raises(PolyApiException) as refused:
            wall.create_api_key()
        assert refused.value.status_code == 401
        synced = ClobClient(t.urls.clob, 137, key=WALLET_KEY, use_server_time=True)
        creds = synced.create_or_derive_api_key()
        synced.set_api_creds(creds)
        assert synced.get_open_orders() == []
        wall.set_api_creds(creds)
        with pytest.raises(PolyApiException) as stale:
            wall.get_open_orders()
        assert stale.value.error_msg == {"error": "Unauthorized/Invalid api key"}
