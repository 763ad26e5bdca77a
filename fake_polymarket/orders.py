"""Trading on the fake: validating V2 orders, matching them, balances, cancels, settlement.

Validation follows Polymarket's order of checks and error strings (docs/polymarket_api.md
§4.4-§4.8 and https://docs.polymarket.com/resources/error-codes): owner and signer must be the
API key's, the EIP-712 signature must recover to the signer, the price must sit on the market's
tick grid, resting orders need the minimum size, marketable BUYs at least $1, and the balance
net of open orders must cover the order.

Matching walks the market's YES-oriented book (`MarketBook`): the simulator's liquidity first
at each price, then users' resting orders. A BUY of NO eats YES bids and a SELL of NO eats YES
asks, which is how Polymarket's complementary (mint/merge) matching looks from one book.
Limit orders (GTC/GTD) are sized in shares; market orders (FOK/FAK) BUY spend `makerAmount`
USDC, as the SDKs build them. Takers pay shares x feeRate x (p(1-p))^exponent: in shares on a
BUY, in USDC on a SELL (docs/polymarket_api.md §3.6 and gotcha G9); makers pay nothing.

Resting orders are filled by the simulator as well, so the maker path can be tested: when the
simulated book moves through a user's price, or a simulated trade prints at or through it.

`engine.state.book.walk` prices a float ladder; matching here needs integer amounts and to know
whose order each share came from (maker fills, trade reports), so it walks `MarketBook.crossing`
instead, and only the fee formula is shared (`engine.fees`: each market's rate and exponent).
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

from engine.models import Outcome, Side
from fake_polymarket import auth, wire
from fake_polymarket.auth import ApiCreds
from fake_polymarket.catalog import Catalog, MarketInfo
from fake_polymarket.config import FakeConfig
from fake_polymarket.orderbook import Chunk, MarketBook
from fake_polymarket.records import MakerFill, Order, Trade
from fake_polymarket.units import (
    AMOUNT_SCALE,
    ONE,
    PRICE_SCALE,
    amount_str,
    amount_units,
    notional,
    price_str,
)

JSON = dict[str, Any]
FOK_KILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_KILLED = (
    "no orders found to match with FAK order. FAK orders are partially filled or killed if no "
    "match is found."
)
NOT_READY = "the market is not yet ready to process new orders"
BAD_PAYLOAD = "Invalid order payload"
CANCEL_REFUSED = "already canceled or matched"
DUST_USDC = 10_000  # $0.01: a market BUY with less left unspent counts as fully filled
ORDER_TYPES = ("GTC", "GTD", "FOK", "FAK")


class OrderRejected(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BookFeed(Protocol):
    """What the world does when trading changes a book: tell the market channel."""

    def levels_changed(
        self, book: MarketBook, levels: Iterable[tuple[bool, int]], ts: float
    ) -> None: ...

    def traded(
        self, book: MarketBook, yes_price: int, shares: int, buy_yes: bool, fee_bps: int, ts: float
    ) -> None: ...


UserSink = Callable[[str, str, JSON], None]  # (api key, condition id, payload)


@dataclass(slots=True)
class Account:
    address: str
    usdc: int  # collateral, amount units
    tokens: dict[str, int] = field(default_factory=dict)
    heartbeat_id: str | None = None
    heartbeat_deadline: float | None = None


@dataclass(slots=True, frozen=True)
class _Parsed:
    order: Order
    maker_amount: int
    taker_amount: int
    post_only: bool


def _tick_rule(order_id: str, shown: str, tick: int) -> str:
    return (
        f"order {order_id} is invalid. Price ({shown}) breaks minimum tick size rule: "
        + price_str(tick)
    )


def _hex_id(*parts: str) -> str:
    return "0x" + hashlib.sha256("|".join(parts).encode()).hexdigest()


class Exchange:
    """Accounts, orders and trades of every API key; all calls run on the server's loop."""

    def __init__(
        self,
        config: FakeConfig,
        keyring: auth.Keyring,
        catalog: Catalog,
        books: Mapping[str, MarketBook],
        feed: BookFeed,
        user_sink: UserSink,
    ) -> None:
        self.config = config
        self.keyring = keyring
        self._catalog = catalog
        self._books = books
        self._feed = feed
        self._user = user_sink
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, Order] = {}
        self.trades: dict[str, Trade] = {}
        self._unsettled: list[Trade] = []  # trades not CONFIRMED yet
        self._seq = 0

    # --- accounts ------------------------------------------------------------------------------

    def account(self, address: str) -> Account:
        key = address.lower()
        acct = self.accounts.get(key)
        if acct is None:
            acct = Account(address, amount_units(self.config.initial_balance_usdc))
            self.accounts[key] = acct
        return acct

    def fund(
        self, address: str, usdc: float | None = None, tokens: Mapping[str, float] | None = None
    ) -> None:
        """Set an account's balances (tests, demos): USDC and token shares, in whole units."""
        acct = self.account(address)
        if usdc is not None:
            acct.usdc = amount_units(usdc)
        for token, shares in (tokens or {}).items():
            acct.tokens[token] = amount_units(shares)

    def open_orders(self, address: str | None = None) -> list[Order]:
        return [
            o
            for o in self.orders.values()
            if o.is_open and (address is None or o.address.lower() == address.lower())
        ]

    def available(self, acct: Account, token: str | None) -> int:
        """Balance not promised to open orders: USDC when `token` is None, else shares."""
        mine = self.open_orders(acct.address)
        if token is None:
            held = sum(-(-o.remaining * o.price // PRICE_SCALE) for o in mine if o.side is Side.BUY)
            return acct.usdc - held
        held = sum(o.remaining for o in mine if o.side is Side.SELL and o.token == token)
        return acct.tokens.get(token, 0) - held

    def balance_allowance(self, creds: ApiCreds, asset_type: str, token: str | None) -> JSON:
        acct = self.account(creds.address)
        if asset_type == "COLLATERAL":
            balance = acct.usdc
        elif asset_type == "CONDITIONAL" and token:
            balance = acct.tokens.get(token, 0)
        else:
            raise OrderRejected("Invalid asset type")
        allowances = {
            a: auth.MAX_UINT256
            for a in (auth.EXCHANGE_V2, auth.NEG_RISK_EXCHANGE_V2, auth.NEG_RISK_ADAPTER)
        }
        return {"balance": str(balance), "allowances": allowances}

    # --- placing -------------------------------------------------------------------------------

    def post_order(self, creds: ApiCreds, body: Any, now: float) -> JSON:
        """`POST /order`: the success body, or OrderRejected with Polymarket's message."""
        parsed = self._parse(creds, body, now)
        return self._execute(parsed, now)

    def post_orders(self, creds: ApiCreds, body: Any, now: float) -> list[JSON]:
        """`POST /orders`: one result per leg; a leg's failure is reported in its `errorMsg`."""
        if not isinstance(body, list):
            raise OrderRejected(BAD_PAYLOAD)
        limit = self.config.max_batch_orders
        if len(body) > limit:
            raise OrderRejected(f"Too many orders in payload: {len(body)}, max allowed: {limit}")
        out: list[JSON] = []
        for leg in body:
            try:
                out.append(self.post_order(creds, leg, now))
            except OrderRejected as e:
                # Batch legs (docs/polymarket_api.md §4.7): success true, no id, reason in errorMsg.
                out.append(
                    {"errorMsg": e.message, "orderID": "", "takingAmount": "", "makingAmount": "",
                     "status": "", "transactionsHashes": [], "tradeIDs": [], "success": True}
                )  # fmt: skip
        return out

    def _parse(self, creds: ApiCreds, body: Any, now: float) -> _Parsed:
        if not isinstance(body, dict) or not isinstance(body.get("order"), dict):
            raise OrderRejected(BAD_PAYLOAD)
        o: dict[str, Any] = body["order"]
        if "timestamp" not in o and ("feeRateBps" in o or "nonce" in o):
            raise OrderRejected("order_version_mismatch")
        order_type = str(body.get("orderType", "GTC"))
        if order_type not in ORDER_TYPES:
            raise OrderRejected(BAD_PAYLOAD)
        if body.get("owner") != creds.api_key:
            raise OrderRejected("the order owner has to be the owner of the API KEY")
        info = self._catalog.market_of_token(str(o.get("tokenId", "")))
        if info is None:
            raise OrderRejected("Invalid token id")
        book = self._books[info.market.market_id]
        if info.closed or book.closed:
            raise OrderRejected(NOT_READY)
        try:
            typed = auth.order_typed_data(o, self.config.chain_id, info.market.neg_risk)
            maker_amount, taker_amount = int(o["makerAmount"]), int(o["takerAmount"])
            side = Side(str(o["side"]))
            expiration = int(o.get("expiration") or 0)
            sig_type = int(o["signatureType"])
        except (KeyError, ValueError, TypeError):
            raise OrderRejected(BAD_PAYLOAD) from None
        if maker_amount <= 0 or taker_amount <= 0:
            raise OrderRejected(BAD_PAYLOAD)
        if str(o["signer"]).lower() != creds.address.lower():
            raise OrderRejected("the order signer address has to be the address of the API KEY")
        order_id = auth.order_hash(typed)
        if self.config.verify_signatures:
            signer = auth.recover_order_signer(typed, str(o.get("signature", "")))
            if (
                sig_type not in (0, 1, 2)
                or signer is None
                or signer.lower() != str(o["signer"]).lower()
            ):
                raise OrderRejected("invalid signature")
        if order_id in self.orders:
            raise OrderRejected(f"order {order_id} is invalid. Duplicated.")

        shares = taker_amount if side is Side.BUY else maker_amount
        ratio = (
            Fraction(maker_amount, taker_amount)
            if side is Side.BUY
            else Fraction(taker_amount, maker_amount)
        )
        ticks = ratio * PRICE_SCALE / book.tick
        nearest = round(ticks)
        shown = f"{float(ratio):.10g}"
        if order_type in ("GTC", "GTD") and abs(ticks - nearest) > Fraction(1, 10_000):
            raise OrderRejected(_tick_rule(order_id, shown, book.tick))
        price = nearest * book.tick
        if not book.tick <= price <= ONE - book.tick:
            raise OrderRejected(_tick_rule(order_id, shown, book.tick))
        if order_type in ("GTC", "GTD") and shares < book.min_size:
            raise OrderRejected(
                f"order {order_id} is invalid. Size ({amount_str(shares)}) lower than the minimum: "
                f"{amount_str(book.min_size)}"
            )
        if order_type == "GTD" and expiration <= now + self.config.gtd_buffer_s:
            raise OrderRejected("invalid expiration")
        post_only = bool(body.get("postOnly", False))
        if post_only and order_type not in ("GTC", "GTD"):
            raise OrderRejected(BAD_PAYLOAD)
        outcome = Outcome.YES if str(o["tokenId"]) == info.market.yes_token else Outcome.NO
        order = Order(
            id=order_id, owner=creds.api_key, address=str(o["maker"]), market=info.market.market_id,
            token=str(o["tokenId"]), outcome=outcome, side=side, price=price, size=shares,
            order_type=order_type, created_ts=now,
            expiration=expiration if order_type == "GTD" else 0,
        )  # fmt: skip
        return _Parsed(order, maker_amount, taker_amount, post_only)

    def _plan(self, order: Order, book: MarketBook, budget: int | None) -> list[tuple[Chunk, int]]:
        """What the order would take, best first, without touching anything."""
        take_bids = not order.rests_as_bid
        plan: list[tuple[Chunk, int]] = []
        left = order.size
        for chunk in book.crossing(take_bids, order.yes_price):
            px = chunk.yes_price if order.outcome is Outcome.YES else ONE - chunk.yes_price
            if budget is not None:
                left = budget * PRICE_SCALE // px
            take = min(chunk.available, left)
            if take <= 0:
                break
            plan.append((chunk, take))
            if budget is not None:
                budget -= notional(take, px)
            else:
                left -= take
        return plan

    def _execute(self, p: _Parsed, now: float) -> JSON:
        order = p.order
        book = self._books[order.market]
        info = self._catalog.markets[order.market]
        acct = self.account(order.address)
        market_buy = order.order_type in ("FOK", "FAK") and order.side is Side.BUY
        budget = p.maker_amount if market_buy else None
        plan = self._plan(order, book, budget)
        if p.post_only and plan:
            raise OrderRejected("invalid post-only order: order crosses book")
        if (
            order.side is Side.BUY
            and (plan or order.order_type in ("FOK", "FAK"))
            and p.maker_amount < AMOUNT_SCALE
        ):
            raise OrderRejected(
                "invalid amount for a marketable BUY order "
                f"(${amount_str(p.maker_amount)}), min size: $1"
            )
        need = p.maker_amount
        have = self.available(acct, None if order.side is Side.BUY else order.token)
        if need > have:
            raise OrderRejected(
                "not enough balance / allowance: the balance is not enough -> "
                f"balance: {max(have, 0)}, order amount: {need}"
            )
        filled = sum(t for _, t in plan)
        if order.order_type == "FOK":
            if market_buy:
                spent = sum(notional(t, self._token_px(order, c.yes_price)) for c, t in plan)
                complete = p.maker_amount - spent < DUST_USDC
            else:
                complete = filled >= order.size
            if not complete:
                self._emit_order(order, "CANCELLATION", now, status=f"CANCELED_{FOK_KILLED}")
                raise OrderRejected(FOK_KILLED)
        if order.order_type == "FAK" and not plan:
            raise OrderRejected(FAK_KILLED)

        self.orders[order.id] = order
        trades = self._fill_taker(order, book, info, plan, now)
        making = sum(
            notional(t.shares, t.price) if order.side is Side.BUY else t.shares for t in trades
        )
        taking = sum(
            t.shares if order.side is Side.BUY else notional(t.shares, t.price) for t in trades
        )
        if market_buy:
            order.size = max(order.size, order.matched)
        if order.order_type in ("GTC", "GTD") and order.remaining > 0:
            book.add_order(order)
            self._feed.levels_changed(book, [(order.rests_as_bid, order.yes_price)], now)
        elif order.remaining > 0:
            order.status = "CANCELED"  # FAK remainder (FOK never gets here unfilled)
        else:
            order.status = "MATCHED"
        self._emit_order(order, "PLACEMENT", now, status="LIVE" if order.is_open else "MATCHED")
        for t in trades:
            self._emit_trade(t, now)
        return {
            "errorMsg": "",
            "orderID": order.id,
            "takingAmount": amount_str(taking) if trades else "",
            "makingAmount": amount_str(making) if trades else "",
            "status": "matched" if trades else "live",
            "transactionsHashes": [t.transaction_hash for t in trades],
            "tradeIDs": [t.id for t in trades],
            "success": True,
        }

    @staticmethod
    def _token_px(order: Order, yes_price: int) -> int:
        return yes_price if order.outcome is Outcome.YES else ONE - yes_price

    def _fill_taker(
        self,
        order: Order,
        book: MarketBook,
        info: MarketInfo,
        plan: list[tuple[Chunk, int]],
        now: float,
    ) -> list[Trade]:
        """Apply a plan: one trade per price level, balances, maker fills, market data."""
        take_bids = not order.rests_as_bid
        acct = self.account(order.address)
        fees = info.market.fees
        trades: list[Trade] = []
        levels: list[tuple[int, list[tuple[Chunk, int]]]] = []
        for chunk, take in plan:
            if levels and levels[-1][0] == chunk.yes_price:
                levels[-1][1].append((chunk, take))
            else:
                levels.append((chunk.yes_price, [(chunk, take)]))
        for yes_px, parts in levels:
            trade_id = self._new_trade_id()
            makers = []
            for chunk, take in parts:
                if chunk.maker is None:
                    book.take_sim(take_bids, yes_px, take)
                    makers.append(self._sim_maker(book, take_bids, yes_px, take))
                else:
                    makers.append(self._fill_maker(chunk.maker, take, trade_id, book, now))
            shares = sum(t for _, t in parts)
            px = self._token_px(order, yes_px)
            usdc = notional(shares, px)
            fee_usdc = fees.fee(shares, px / PRICE_SCALE)  # in amount units
            if order.side is Side.BUY:
                acct.usdc -= usdc
                fee_shares = math.ceil(fee_usdc * PRICE_SCALE / px) if px else 0
                acct.tokens[order.token] = acct.tokens.get(order.token, 0) + shares - fee_shares
            else:
                acct.tokens[order.token] = acct.tokens.get(order.token, 0) - shares
                acct.usdc += usdc - math.ceil(fee_usdc)
            order.matched += shares
            order.trade_ids.append(trade_id)
            trade = self._record_trade(
                trade_id, order.id, order.owner, order.address, info, order.token, order.outcome,
                order.side, px, shares, wire.fee_bps(fees.rate), makers, now,
            )  # fmt: skip
            trades.append(trade)
            self._feed.traded(book, yes_px, shares, not take_bids, trade.fee_rate_bps, now)
        if levels:
            self._feed.levels_changed(book, [(take_bids, px) for px, _ in levels], now)
        return trades

    def _sim_maker(self, book: MarketBook, take_bids: bool, yes_px: int, shares: int) -> MakerFill:
        self._seq += 1
        return MakerFill(
            order_id=_hex_id("sim-order", book.market_id, str(self._seq)),
            owner=wire.SIM_MAKER_OWNER,
            address=wire.SIM_MAKER_ADDRESS,
            token=book.yes_token,
            outcome=Outcome.YES,
            side=Side.BUY if take_bids else Side.SELL,
            price=yes_px,
            shares=shares,
        )

    def _fill_maker(
        self, o: Order, shares: int, trade_id: str, book: MarketBook, now: float
    ) -> MakerFill:
        """A resting user order gives `shares` at its own price (makers pay no fee)."""
        acct = self.account(o.address)
        usdc = notional(shares, o.price)
        if o.side is Side.BUY:
            acct.usdc -= usdc
            acct.tokens[o.token] = acct.tokens.get(o.token, 0) + shares
        else:
            acct.tokens[o.token] = acct.tokens.get(o.token, 0) - shares
            acct.usdc += usdc
        o.matched += shares
        o.trade_ids.append(trade_id)
        if o.remaining <= 0:
            o.status = "MATCHED"
            book.remove_order(o)
        self._emit_order(o, "UPDATE", now)
        return MakerFill(o.id, o.owner, o.address, o.token, o.outcome, o.side, o.price, shares)

    def _new_trade_id(self) -> str:
        self._seq += 1
        return str(
            uuid.UUID(bytes=hashlib.sha256(f"trade{self._seq}".encode()).digest()[:16], version=4)
        )

    def _record_trade(
        self, trade_id: str, taker_order_id: str, owner: str, address: str, info: MarketInfo,
        token: str, outcome: Outcome, side: Side, price: int, shares: int, fee_bps: int,
        makers: list[MakerFill], now: float,
    ) -> Trade:  # fmt: skip
        trade = Trade(
            id=trade_id, taker_order_id=taker_order_id, taker_owner=owner, taker_address=address,
            market=info.market.market_id, token=token, outcome=outcome, side=side, price=price,
            shares=shares, fee_rate_bps=fee_bps, match_ts=now,
            transaction_hash=_hex_id("tx", trade_id), makers=tuple(makers), last_update_ts=now,
        )  # fmt: skip
        self.trades[trade.id] = trade
        self._unsettled.append(trade)
        info.add_volume(now, shares * price / PRICE_SCALE / AMOUNT_SCALE)
        return trade

    # --- the simulator filling resting orders ----------------------------------------------------

    def sim_sweep(self, book: MarketBook, now: float) -> None:
        """Fill user orders the simulated book now crosses, against that liquidity."""
        for is_bid in (True, False):
            queue = sorted(
                (o for q in book.side(is_bid).users.values() for o in q if o.remaining > 0),
                key=lambda o: (-o.yes_price if is_bid else o.yes_price, o.created_ts),
            )
            for o in queue:
                available = [c for c in book.crossing(not is_bid, o.yes_price) if c.maker is None]
                for c in available:
                    take = min(c.available, o.remaining)
                    if take <= 0:
                        break
                    book.take_sim(not is_bid, c.yes_price, take)
                    self._sim_takes(book, o, take, now)

    def sim_print(
        self, book: MarketBook, yes_price: int, shares: int, buy_yes: bool, now: float
    ) -> None:
        """A simulated trade at `yes_price` also fills user orders resting at or through it."""
        take_bids = not buy_yes
        left = shares
        for c in book.crossing(take_bids, yes_price):
            if c.maker is None or left <= 0:
                continue
            take = min(c.available, left)
            self._sim_takes(book, c.maker, take, now)
            left -= take

    def _sim_takes(self, book: MarketBook, o: Order, shares: int, now: float) -> None:
        info = self._catalog.markets[book.market_id]
        trade_id = self._new_trade_id()
        maker = self._fill_maker(o, shares, trade_id, book, now)
        self._seq += 1
        taker_side = Side.SELL if o.rests_as_bid else Side.BUY  # in YES terms
        trade = self._record_trade(
            trade_id, _hex_id("sim-taker", str(self._seq)), wire.SIM_MAKER_OWNER,
            wire.SIM_MAKER_ADDRESS, info, book.yes_token, Outcome.YES, taker_side, o.yes_price,
            shares, wire.fee_bps(info.market.fee_rate), [maker], now,
        )  # fmt: skip
        self._emit_trade(trade, now)
        self._feed.traded(
            book, o.yes_price, shares, taker_side is Side.BUY, trade.fee_rate_bps, now
        )
        self._feed.levels_changed(book, [(o.rests_as_bid, o.yes_price)], now)

    # --- cancels, expiry, heartbeats, settlement ------------------------------------------------

    def cancel(
        self, creds: ApiCreds, ids: Iterable[str], now: float, status: str = "CANCELED"
    ) -> JSON:
        canceled: list[str] = []
        refused: dict[str, str] = {}
        for oid in ids:
            o = self.orders.get(oid)
            if o is None or not o.is_open or o.owner != creds.api_key:
                refused[oid] = CANCEL_REFUSED
                continue
            self._cancel(o, now, status)
            canceled.append(oid)
        return {"canceled": canceled, "not_canceled": refused}

    def _cancel(self, o: Order, now: float, status: str) -> None:
        book = self._books[o.market]
        book.remove_order(o)
        o.status = status
        self._emit_order(o, "CANCELLATION", now)
        self._feed.levels_changed(book, [(o.rests_as_bid, o.yes_price)], now)

    def mine(self, creds: ApiCreds, market: str = "", asset_id: str = "") -> list[str]:
        return [
            o.id
            for o in self.open_orders()
            if o.owner == creds.api_key
            and (not market or o.market == market)
            and (not asset_id or o.token == asset_id)
        ]

    def heartbeat(self, creds: ApiCreds, heartbeat_id: str | None, now: float) -> JSON:
        acct = self.account(creds.address)
        if acct.heartbeat_id is not None and heartbeat_id not in (acct.heartbeat_id, "", None):
            raise OrderRejected("Invalid heartbeat id")
        acct.heartbeat_id = str(uuid.uuid4())
        acct.heartbeat_deadline = now + self.config.heartbeat_timeout_s
        return {"heartbeat_id": acct.heartbeat_id}

    def on_time(self, now: float) -> None:
        """Expire GTD orders, enforce heartbeats, move trades MATCHED -> MINED -> CONFIRMED."""
        for o in self.open_orders():
            if o.expiration and o.expiration <= now:
                self._cancel(o, now, "CANCELED")
        for acct in self.accounts.values():
            if acct.heartbeat_deadline is not None and acct.heartbeat_deadline < now:
                acct.heartbeat_deadline = acct.heartbeat_id = None
                for o in self.open_orders(acct.address):
                    self._cancel(o, now, "CANCELED")
        cfg = self.config
        still: list[Trade] = []
        for t in self._unsettled:
            status = t.status
            if status == "MATCHED" and now >= t.match_ts + cfg.trade_mined_after_s:
                status = "MINED"
            if status == "MINED" and now >= t.match_ts + cfg.trade_confirmed_after_s:
                status = "CONFIRMED"
            if status != t.status:
                t.status = status
                t.last_update_ts = now
                self._emit_trade(t, now)
            if t.status != "CONFIRMED":
                still.append(t)
        self._unsettled = still

    def settle(self, info: MarketInfo, now: float) -> None:
        """Resolution: cancel the market's orders and redeem every position at its payout."""
        book = self._books[info.market.market_id]
        for o in book.resting_orders():
            self._cancel(o, now, "CANCELED_MARKET_RESOLVED")
        payout = info.market.payout_yes or 0.0
        m = info.market
        for acct in self.accounts.values():
            for token, value in ((m.yes_token, payout), (m.no_token, 1.0 - payout)):
                shares = acct.tokens.pop(token, 0)
                acct.usdc += int(shares * value)

    # --- queries -------------------------------------------------------------------------------

    def trades_of(self, creds: ApiCreds) -> list[Trade]:
        return [
            t
            for t in self.trades.values()
            if t.taker_owner == creds.api_key or any(f.owner == creds.api_key for f in t.makers)
        ]

    # --- user channel --------------------------------------------------------------------------

    def _emit_order(self, o: Order, kind: str, now: float, status: str | None = None) -> None:
        self._user(o.owner, o.market, wire.ws_order(o, kind, now, status))

    def _emit_trade(self, t: Trade, now: float) -> None:
        owners = {f.owner for f in t.makers} | {t.taker_owner}
        for owner in owners - {wire.SIM_MAKER_OWNER}:
            self._user(owner, t.market, wire.ws_trade(t, owner, now))
