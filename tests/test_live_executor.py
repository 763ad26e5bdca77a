"""Live execution against the fake Polymarket: real HTTP on 127.0.0.1, the real SDK.

Every test counts the orders the fake holds for the wallet: one approved intent must never
yield two, whatever the network does. Sleeps between attempts are recorded, not slept, so
the retry schedule is asserted exactly and the tests stay fast.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from pydantic import SecretStr
from sqlalchemy import text

from engine.config import LiveSettings
from engine.events import BookSnapshot
from engine.execution.approvals import ApprovalProcessor
from engine.execution.clob_client import ClobError
from engine.execution.clob_executor import ClobExecutor, LiveSetupError, build_live_executor
from engine.execution.clob_orders import plan_order
from engine.execution.clob_settings import ClobSettings
from engine.execution.intents import IntentStore
from engine.execution.live_account import BookFills, DeferredAccount
from engine.execution.live_worker import LiveWorker
from engine.execution.portfolio import Portfolio
from engine.models import EngineState, Fill, IntentState, Outcome, Side, TradeIntent
from engine.run.run_state import EngineControl
from engine.state.market_state import MarketState
from engine.storage import Database
from fake_polymarket import ThreadedFakePolymarket
from fake_polymarket.catalog import MarketInfo
from fake_polymarket.records import Order
from tests.fake_exchange_fixture import (
    OTHER_WALLET_KEY,
    WALLET_KEY,
    fake_polymarket_thread_fixture,  # noqa: F401  (registers the fixture)
)

S = IntentState
SHARE = 1_000_000


@dataclass
class Wire:
    """Every request the executor's HTTP client made, in order: "POST /order", ..."""

    calls: list[str] = field(default_factory=list)

    def hook(self, request: httpx.Request) -> None:
        self.calls.append(f"{request.method} {request.url.path}")

    def count(self, call: str) -> int:
        return sum(1 for c in self.calls if c == call)


@dataclass
class Live:
    t: ThreadedFakePolymarket
    store: IntentStore
    portfolio: Portfolio
    executor: ClobExecutor
    wire: Wire
    sleeps: list[float]

    @property
    def address(self) -> str:
        return self.executor.session.wallet.signer

    def now(self) -> float:
        return float(self.t.call(self.t.fake.world.clock.now))

    def orders(self) -> list[Order]:
        """Every order the fake ever accepted from this wallet, whatever its state."""

        def mine() -> list[Order]:
            return [
                o
                for o in self.t.fake.exchange.orders.values()
                if o.address.lower() == self.address.lower()
            ]

        result: list[Order] = self.t.call(mine)
        return result

    def account(self) -> tuple[float, dict[str, float]]:
        acct = self.t.call(self.t.fake.exchange.account, self.address)
        return acct.usdc / SHARE, {k: v / SHARE for k, v in acct.tokens.items() if v}

    def intent(self, iid: str) -> TradeIntent:
        return self.store.require(iid)


def live_settings(key: str = WALLET_KEY, **extra: Any) -> LiveSettings:
    values: dict[str, Any] = {"dry_run": False, "private_key": SecretStr(key)}
    values.update(extra)
    return LiveSettings(**values)


def make_live(
    t: ThreadedFakePolymarket,
    tmp_path: Path,
    *,
    key: str = WALLET_KEY,
    store: IntentStore | None = None,
    settings: LiveSettings | None = None,
    collateral: float = 10_000.0,
    **clob: Any,
) -> Live:
    if store is None:
        db = Database(f"sqlite:///{(tmp_path / 'live.db').as_posix()}")
        db.init()
        store = IntentStore(db)
    wire = Wire()
    sleeps: list[float] = []
    options: dict[str, Any] = {
        "host": t.urls.clob,
        "data_url": t.urls.data,
        "heartbeat_interval_s": None,
        "backoff_base_s": 0.01,
        "post_timeout_s": 2.0,
    }
    options.update(clob)
    http = httpx.Client(timeout=5.0, event_hooks={"request": [wire.hook]})
    portfolio = Portfolio(collateral)
    executor = build_live_executor(
        settings or live_settings(key),
        live=True,
        store=store,
        portfolio=portfolio,
        clob=ClobSettings(**options),
        http=http,
        sleep=sleeps.append,
    )
    return Live(t, store, portfolio, executor, wire, sleeps)


@pytest.fixture
def live(fake_polymarket_thread: ThreadedFakePolymarket, tmp_path: Path) -> Iterator[Live]:
    lv = make_live(fake_polymarket_thread, tmp_path)
    yield lv
    lv.executor.close()


def pick_market(
    t: ThreadedFakePolymarket, *, fee: bool = True, tick: int = 100, other_than: str = ""
) -> MarketInfo:
    """An open, liquid market on the given grid (fee: with a taker fee)."""

    def find() -> MarketInfo:
        for info in sorted(
            t.fake.world.catalog.markets.values(), key=lambda i: -i.market.liquidity
        ):
            book = t.fake.world.books[info.market.market_id]
            bid, ask = book.best(True), book.best(False)
            if info.closed or book.tick != tick or bid is None or ask is None:
                continue
            if info.market.market_id == other_than:
                continue
            if fee and info.market.fee_rate <= 0:
                continue
            return info
        raise AssertionError("no such market in the fake's world")

    found: MarketInfo = t.call(find)
    return found


def best(t: ThreadedFakePolymarket, info: MarketInfo, outcome: Outcome, bid: bool) -> float:
    def read() -> float:
        book = t.fake.world.books[info.market.market_id]
        token = info.market.token(outcome)
        b, a = book.token_best(token)
        px = b if bid else a
        assert px is not None
        return px / 10_000

    value: float = t.call(read)
    return value


_SEQ = iter(range(1_000_000))


def approved(
    lv: Live,
    info: MarketInfo,
    *,
    side: Side = Side.BUY,
    size: float = 10.0,
    price: float,
    outcome: Outcome = Outcome.YES,
    state: IntentState = S.APPROVED,
    created: float | None = None,
) -> TradeIntent:
    now = lv.now() if created is None else created
    intent = TradeIntent(
        intent_id=f"intent-{next(_SEQ):06d}-{outcome.name.lower()}",
        created_ts=now,
        expires_ts=now + 300,
        market_id=info.market.market_id,
        token_id=info.market.token(outcome),
        outcome=outcome,
        side=side,
        size=size,
        limit_price=price,
        p_model=0.95 if side is Side.BUY else 0.05,
        edge=0.1,
        state=state,
        question=info.market.question,
    )
    lv.store.create([intent], "run-test")
    return intent


def assert_books_match(lv: Live) -> None:
    """The engine's cash and positions are the exchange account's, to the micro-unit."""
    usdc, tokens = lv.account()
    assert lv.portfolio.cash == pytest.approx(usdc, abs=2e-6)
    held = {}
    for (market_id, outcome), pos in lv.portfolio.positions.items():
        info = lv.t.fake.world.catalog.markets[market_id]
        held[info.market.token(outcome)] = pos.size
    assert held.keys() == tokens.keys()
    for token, shares in tokens.items():
        assert held[token] == pytest.approx(shares, abs=2e-6)


# --- the happy path ------------------------------------------------------------------------


def test_approved_intent_yields_one_filled_order_and_books_match_the_exchange(live: Live) -> None:
    info = pick_market(live.t, fee=True)
    ask = best(live.t, info, Outcome.YES, bid=False)
    intent = approved(live, info, price=ask, size=10)

    line = live.executor.execute(intent, live.now())

    done = live.store.get_record(intent.intent_id)
    assert done is not None and done.intent.state is S.FILLED, line
    (order,) = live.orders()
    assert done.order_id == order.id and order.status == "MATCHED"
    (report,) = live.executor.take_reports()
    assert report.status == "filled" and report.order.order_id == order.id
    # A taker BUY pays its fee in shares: fewer shares than bought, cash = shares x price.
    bought = sum(f.size + f.fee / f.price for f in report.fills)
    assert bought == pytest.approx(order.matched / SHARE, abs=2e-6)
    assert sum(f.size for f in report.fills) < bought
    assert_books_match(live)
    (row,) = live.executor.trades(market=info.market.market_id)
    assert row["taker_order_id"] == order.id and row["trader_side"] == "TAKER"

    # Selling part of it back: the fee now comes out of the USDC received.
    held = live.portfolio.held(info.market.market_id, Outcome.YES)
    bid = best(live.t, info, Outcome.YES, bid=True)
    sell = approved(live, info, side=Side.SELL, size=round(held / 2, 2), price=bid)
    live.executor.execute(sell, live.now())
    assert live.intent(sell.intent_id).state is S.FILLED
    assert len(live.orders()) == 2
    assert_books_match(live)
    # Executing again is a no-op: the intents are no longer APPROVED.
    assert "taken by another process" in live.executor.execute(sell, live.now())
    assert len(live.orders()) == 2


def test_no_intent_buys_with_more_than_its_approved_cost(live: Live) -> None:
    info = pick_market(live.t, fee=False)
    ask = best(live.t, info, Outcome.NO, bid=False)
    limit = round(min(ask + 0.03, 0.98), 2)  # generous limit: the book is better than it
    intent = approved(live, info, outcome=Outcome.NO, price=limit, size=12)
    live.executor.execute(intent, live.now())
    assert live.intent(intent.intent_id).state is S.FILLED
    usdc, _ = live.account()
    assert 10_000 - usdc <= 12 * limit + 1e-9
    assert_books_match(live)


def market_state(t: ThreadedFakePolymarket, info: MarketInfo) -> MarketState:
    """The engine's view of the fake's book for one market, for the approval re-check."""

    def ladders() -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        book = t.fake.world.books[info.market.market_id]
        return book.ladder(True), book.ladder(False)

    bids, asks = t.call(ladders)
    state = MarketState(depth=50)
    state.add_market(replace(info.market))

    def arr(levels: list[tuple[int, int]], scale: int) -> np.ndarray:
        return np.array([lv[0] / 10_000 if scale == 0 else lv[1] / SHARE for lv in levels])

    snap = BookSnapshot(
        info.market.yes_token,
        float(t.call(t.fake.world.clock.now)),
        arr(bids, 0),
        arr(bids, 1),
        arr(asks, 0),
        arr(asks, 1),
    )
    state.apply([snap])
    return state


def processor(
    lv: Live, info: MarketInfo, *, dry_run: bool, control: EngineControl | None = None
) -> ApprovalProcessor:
    """The engine step's side, with the executor in its worker thread (as the engine runs
    it): what the exchange says of the account reaches the portfolio through the step."""
    account = DeferredAccount()
    lv.executor.account = account
    return ApprovalProcessor(
        lv.store,
        market_state(lv.t, info),
        threshold=0.01,
        tolerance=0.02,
        expiry_seconds=300,
        dry_run=dry_run,
        executor=LiveWorker(lv.executor, account, lv.now),
        run_id="run-test",
        portfolio=lv.portfolio,
        control=control,
    )


def settle(proc: ApprovalProcessor, now: float, timeout: float = 20.0) -> list[str]:
    """Engine steps until the worker has nothing in hand (its results applied)."""
    lines = proc.process(now)
    worker = proc.worker
    assert worker is not None
    deadline = time.monotonic() + timeout
    while not worker.idle:
        assert time.monotonic() < deadline, "the live worker did not finish"
        time.sleep(0.01)
    return lines + proc.process(now)


def test_approval_processor_sends_a_person_approved_intent(live: Live) -> None:
    info = pick_market(live.t)
    intent = approved(live, info, price=best(live.t, info, Outcome.YES, False), state=S.PENDING)
    assert live.store.approve(intent.intent_id, live.now())
    proc = processor(live, info, dry_run=False)

    lines = settle(proc, live.now())

    assert live.intent(intent.intent_id).state is S.FILLED, lines
    assert len(live.orders()) == 1
    (report,) = proc.take_reports()
    assert report.fills and report.order.intent_id == intent.intent_id and report.stored
    assert_books_match(live)  # booked by the step, from the worker's effects
    settle(proc, live.now() + 1)
    assert len(live.orders()) == 1 and proc.take_reports() == []
    assert proc.worker is not None
    proc.worker.close()


def test_dry_run_sends_nothing_to_the_exchange(live: Live) -> None:
    info = pick_market(live.t)
    intent = approved(live, info, price=best(live.t, info, Outcome.YES, False), state=S.PENDING)
    live.store.approve(intent.intent_id, live.now())
    proc = processor(live, info, dry_run=True)

    proc.process(live.now())

    assert live.intent(intent.intent_id).state is S.EXECUTED_DRYRUN
    assert live.orders() == [] and live.wire.calls == []  # not even a connection
    assert proc.take_reports() == []


# --- faults: at most one order -------------------------------------------------------------


def test_post_timeout_after_acceptance_is_looked_up_not_reposted(
    fake_polymarket_thread: ThreadedFakePolymarket, tmp_path: Path
) -> None:
    t = fake_polymarket_thread
    lv = make_live(t, tmp_path, post_timeout_s=0.3)
    info = pick_market(t)
    intent = approved(lv, info, price=best(t, info, Outcome.YES, False))
    lv.executor.poll(lv.now())  # connect first, so only the order's own calls are counted
    lv.wire.calls.clear()
    t.call(t.fake.faults.timeout_after_accept, 1.5)

    lv.executor.execute(intent, lv.now())

    assert lv.intent(intent.intent_id).state is S.FILLED
    assert len(lv.orders()) == 1
    assert lv.wire.count("POST /order") == 1  # found by the lookup: never sent again
    first_lookup = lv.wire.calls.index("GET /data/trades")
    assert lv.wire.calls.index("POST /order") < first_lookup
    assert_books_match(lv)
    lv.executor.close()


def test_5xx_and_429_bursts_are_retried_with_backoff_into_one_order(live: Live) -> None:
    info = pick_market(live.t)
    price = best(live.t, info, Outcome.YES, False)
    first, second = approved(live, info, price=price), approved(live, info, price=price)
    live.executor.poll(live.now())
    live.wire.calls.clear()
    faults = live.t.fake.faults
    live.t.call(lambda: faults.http_error(500, count=3, path="/order", method="POST"))

    live.executor.execute(first, live.now())

    assert live.intent(first.intent_id).state is S.FILLED
    assert len(live.orders()) == 1 and live.wire.count("POST /order") == 4
    assert live.sleeps == [0.01, 0.02, 0.04]  # exponential backoff
    # A 5xx may have acted: every re-send after one was preceded by a lookup.
    posts = [i for i, c in enumerate(live.wire.calls) if c == "POST /order"]
    for before, after in itertools.pairwise(posts):
        assert "GET /data/trades" in live.wire.calls[before:after]

    live.sleeps.clear()
    live.wire.calls.clear()
    live.t.call(lambda: faults.rate_limit(count=2, retry_after=3, path="/order", method="POST"))
    live.executor.execute(second, live.now())
    assert live.intent(second.intent_id).state is S.FILLED
    assert len(live.orders()) == 2 and live.wire.count("POST /order") == 3
    assert live.sleeps == [3.0, 3.0]  # the server's Retry-After
    posts = [i for i, c in enumerate(live.wire.calls) if c == "POST /order"]
    assert posts == list(range(posts[0], posts[0] + 3))  # a 429 did nothing: no lookup


@pytest.mark.parametrize("garble", ["malformed_json", "truncated_json"])
def test_a_garbled_answer_to_a_post_is_looked_up_not_trusted(live: Live, garble: str) -> None:
    info = pick_market(live.t)
    intent = approved(live, info, price=best(live.t, info, Outcome.YES, False))
    live.executor.poll(live.now())
    live.t.call(lambda: getattr(live.t.fake.faults, garble)(count=1, path="/order"))
    live.executor.execute(intent, live.now())
    assert live.intent(intent.intent_id).state is S.FILLED
    assert len(live.orders()) == 1
    assert_books_match(live)


def test_a_2xx_answer_without_success_leaves_the_order_to_be_looked_up(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`{"error": ...}` with a 2xx: the order may exist, so it is neither trusted nor
    refused: the intent stays SUBMITTED and the next poll finds what happened."""
    info = pick_market(live.t)
    intent = approved(live, info, price=best(live.t, info, Outcome.YES, False))
    live.executor.poll(live.now())
    session = live.executor.session
    real_post = session.post

    def unclear(signed: Any) -> dict[str, Any]:
        real_post(signed)
        return {"error": "Internal server error"}

    monkeypatch.setattr(session, "post", unclear)
    line = live.executor.execute(intent, live.now())
    assert "unknown" in line and live.intent(intent.intent_id).state is S.SUBMITTED
    live.executor.poll(live.now() + 1)
    assert live.intent(intent.intent_id).state is S.FILLED
    assert len(live.orders()) == 1
    assert_books_match(live)


def test_an_order_row_that_says_matched_is_resolved_from_the_trades(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Polymarket answers /data/order for working orders only (docs/polymarket_api.md, gotcha
    G16); should it ever return a
    finished one, the intent must not wait on it as if it were resting."""
    info = pick_market(live.t)
    intent = approved(live, info, price=best(live.t, info, Outcome.YES, False))
    live.executor.poll(live.now())

    def done_row(order_id: str) -> dict[str, Any]:
        return {"id": order_id, "status": "MATCHED", "size_matched": "10", "price": "0.5"}

    monkeypatch.setattr(live.executor.session, "get_order", done_row)
    live.executor.execute(intent, live.now())
    assert live.intent(intent.intent_id).state is S.FILLED
    assert_books_match(live)


def test_an_unreadable_trade_of_our_order_is_read_again_later_never_guessed(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = pick_market(live.t)
    intent = approved(live, info, price=best(live.t, info, Outcome.YES, False))
    live.executor.poll(live.now())
    session = live.executor.session
    real_trades = session.trades

    def garbled(**kw: Any) -> list[dict[str, Any]]:
        return [dict(r, price="n/a") for r in real_trades(**kw)]

    monkeypatch.setattr(session, "trades", garbled)
    line = live.executor.execute(intent, live.now())
    assert "not a number: 'n/a'" in line
    assert live.intent(intent.intent_id).state is S.SUBMITTED  # not FAILED, not PARTIAL
    assert live.portfolio.positions == {}
    monkeypatch.setattr(session, "trades", real_trades)
    live.executor.poll(live.now() + 1)
    assert live.intent(intent.intent_id).state is S.FILLED and len(live.orders()) == 1
    assert_books_match(live)


def test_an_exchange_that_keeps_failing_fails_the_intent_without_an_order(live: Live) -> None:
    info = pick_market(live.t)
    intent = approved(live, info, price=best(live.t, info, Outcome.YES, False))
    live.t.call(
        lambda: live.t.fake.faults.http_error(500, count=None, path="/order", method="POST")
    )
    live.executor.execute(intent, live.now())
    failed = live.intent(intent.intent_id)
    assert failed.state is S.FAILED and failed.reason is not None
    assert "failed 4 times" in failed.reason and "HTTP 500" in failed.reason
    assert live.orders() == []
    assert live.portfolio.cash == 10_000


def test_a_lost_answer_whose_lookup_also_fails_is_never_sent_again(
    fake_polymarket_thread: ThreadedFakePolymarket, tmp_path: Path
) -> None:
    """The post timed out after the exchange took it, and the trades endpoint is down: the
    executor cannot tell whether the order exists, so it must not re-send it blind."""
    t = fake_polymarket_thread
    lv = make_live(t, tmp_path, post_timeout_s=0.3)
    info = pick_market(t)
    intent = approved(lv, info, price=best(t, info, Outcome.YES, False))
    lv.executor.poll(lv.now())
    lv.wire.calls.clear()
    t.call(t.fake.faults.timeout_after_accept, 1.5)
    t.call(lambda: t.fake.faults.http_error(503, count=None, path="/data/trades"))

    line = lv.executor.execute(intent, lv.now())

    assert "unknown" in line and lv.intent(intent.intent_id).state is S.SUBMITTED
    assert lv.wire.count("POST /order") == 1 and len(lv.orders()) == 1
    assert lv.portfolio.positions == {}  # nothing booked on a guess
    t.call(t.fake.faults.clear)
    lv.executor.poll(lv.now() + 1)
    assert lv.intent(intent.intent_id).state is S.FILLED
    assert lv.wire.count("POST /order") == 1 and len(lv.orders()) == 1
    assert_books_match(lv)
    lv.executor.close()


def test_a_re_sent_order_the_exchange_already_has_is_taken_as_accepted(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first post reached the exchange but its answer was lost, and the lookup came too
    early to see it: the re-send (the same signed order) is answered "Duplicated", which
    means the exchange has it. One order, resolved from the exchange, books matching."""
    info = pick_market(live.t)
    intent = approved(live, info, price=best(live.t, info, Outcome.YES, False))
    live.executor.poll(live.now())
    live.wire.calls.clear()
    session = live.executor.session
    real_post, real_trades, real_get_order = session.post, session.trades, session.get_order
    lagging = {"reads": 2}  # the lookup's two reads (order row, trades) see nothing yet

    def lost_answer(signed: Any) -> dict[str, Any]:
        monkeypatch.setattr(session, "post", real_post)
        real_post(signed)
        raise ClobError("POST /order: no answer in time", kind="maybe_sent")

    def behind(real: Callable[..., Any], empty: Any) -> Callable[..., Any]:
        def read(*args: Any, **kw: Any) -> Any:
            if lagging["reads"]:
                lagging["reads"] -= 1
                return empty
            return real(*args, **kw)

        return read

    monkeypatch.setattr(session, "post", lost_answer)
    monkeypatch.setattr(session, "trades", behind(real_trades, []))
    monkeypatch.setattr(session, "get_order", behind(real_get_order, None))

    live.executor.execute(intent, live.now())

    assert live.wire.count("POST /order") == 2  # the re-send, answered "Duplicated"
    assert len(live.orders()) == 1
    assert live.intent(intent.intent_id).state is S.FILLED
    assert_books_match(live)


def test_posts_that_never_answer_leave_the_intent_submitted_until_the_grace_ends(
    fake_polymarket_thread: ThreadedFakePolymarket, tmp_path: Path
) -> None:
    """Every post times out before the exchange reads it: each send may have acted, so each
    re-send (the same signed order) follows a lookup, and the intent is failed only after a
    grace period in which a late answer could still have created the order."""
    t = fake_polymarket_thread
    lv = make_live(t, tmp_path, post_timeout_s=0.2, post_attempts=3, lookup_grace_s=60)
    info = pick_market(t)
    intent = approved(lv, info, price=best(t, info, Outcome.YES, False))
    lv.executor.poll(lv.now())
    lv.wire.calls.clear()
    t.call(lambda: t.fake.faults.slow(0.6, path="/order", method="POST"))
    now = lv.now()

    line = lv.executor.execute(intent, now)

    assert lv.intent(intent.intent_id).state is S.SUBMITTED and "unknown" in line
    posts = [i for i, c in enumerate(lv.wire.calls) if c == "POST /order"]
    assert len(posts) == 3
    for before, after in itertools.pairwise(posts):
        assert "GET /data/trades" in lv.wire.calls[before:after]
    t.call(t.fake.faults.clear)
    lv.executor.poll(now + 30)
    assert lv.intent(intent.intent_id).state is S.SUBMITTED
    lv.executor.poll(now + 61)
    failed = lv.intent(intent.intent_id)
    assert failed.state is S.FAILED and "not re-posted" in (failed.reason or "")
    assert lv.orders() == []
    lv.executor.close()


def test_two_engines_racing_for_one_intent_send_one_order(
    fake_polymarket_thread: ThreadedFakePolymarket, tmp_path: Path
) -> None:
    t = fake_polymarket_thread
    a = make_live(t, tmp_path)
    b = make_live(t, tmp_path, store=a.store)
    info = pick_market(t)
    intent = approved(a, info, price=best(t, info, Outcome.YES, False))
    for lv in (a, b):
        lv.executor.poll(lv.now())
    lines: list[str] = []
    barrier = threading.Barrier(2)

    def go(lv: Live) -> None:
        barrier.wait()
        lines.append(lv.executor.execute(intent, lv.now()))

    threads = [threading.Thread(target=go, args=(lv,)) for lv in (a, b)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert a.intent(intent.intent_id).state is S.FILLED
    assert len(a.orders()) == 1
    assert sum("taken by another process" in line for line in lines) == 1
    for lv in (a, b):
        lv.executor.close()


# --- start-up reconciliation after a crash ---------------------------------------------------


def claim(lv: Live, intent: TradeIntent, order_id: str | None, now: float) -> None:
    assert lv.store.transition(
        intent.intent_id, S.APPROVED, S.SUBMITTED, now, order_id=order_id, executed_ts=now
    )


def signed_for(lv: Live, intent: TradeIntent) -> Any:
    session = lv.executor.session
    session.connect()
    rules = session.market_rules(intent.market_id)
    plan = plan_order(intent, rules, "FAK", wall_now=time.time(), gtd_seconds=300)
    return session.sign(plan)


def restarted(lv: Live, tmp_path: Path) -> Live:
    """A new engine on the same database and wallet (the old one crashed)."""
    return make_live(lv.t, tmp_path, store=lv.store)


def test_crash_between_claim_and_post_fails_the_intent_and_never_posts(
    live: Live, tmp_path: Path
) -> None:
    info = pick_market(live.t)
    price = best(live.t, info, Outcome.YES, False)
    no_hash = approved(live, info, price=price)
    signed_only = approved(live, info, price=price)
    now = live.now()
    claim(live, no_hash, None, now)
    claim(live, signed_only, signed_for(live, signed_only).order_id, now)

    engine = restarted(live, tmp_path)
    engine.executor.start(now + 10)

    failed = engine.intent(no_hash.intent_id)
    assert failed.state is S.FAILED and "nothing was sent" in (failed.reason or "")
    # Signed, never posted: maybe still in flight within the grace period, so it waits...
    assert engine.intent(signed_only.intent_id).state is S.SUBMITTED
    engine.executor.poll(now + 60)
    assert engine.intent(signed_only.intent_id).state is S.SUBMITTED
    # ...and past it, it fails; nothing was ever re-posted.
    engine.executor.poll(now + 200)
    gone = engine.intent(signed_only.intent_id)
    assert gone.state is S.FAILED and "not found on the exchange" in (gone.reason or "")
    assert engine.orders() == [] and engine.wire.count("POST /order") == 0
    engine.executor.close()


def test_crash_after_post_is_resolved_from_the_exchange_with_fills(
    live: Live, tmp_path: Path
) -> None:
    info = pick_market(live.t)
    intent = approved(live, info, price=best(live.t, info, Outcome.YES, False), size=8)
    signed = signed_for(live, intent)
    claim(live, intent, signed.order_id, live.now())
    live.executor.session.post(signed)  # ...and the engine died before reading the answer

    engine = restarted(live, tmp_path)
    lines = engine.executor.start(live.now())

    done = engine.intent(intent.intent_id)
    assert done.state is S.FILLED, lines
    assert len(engine.orders()) == 1 and engine.wire.count("POST /order") == 0
    (report,) = engine.executor.take_reports()
    assert sum(f.size for f in report.fills) > 0
    assert_books_match(engine)
    engine.executor.close()


def test_fills_resolved_after_a_restart_use_the_markets_own_fee_exponent(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan (and the rules it read) died with the engine: the fee is booked with the
    exponent the exchange gives for the market now, not an assumed 1."""
    info = pick_market(live.t, fee=True)
    intent = approved(live, info, price=best(live.t, info, Outcome.YES, False), size=8)
    signed = signed_for(live, intent)
    claim(live, intent, signed.order_id, live.now())
    live.executor.session.post(signed)

    engine = restarted(live, tmp_path)
    session = engine.executor.session
    real_rules = session.market_rules
    monkeypatch.setattr(
        session, "market_rules", lambda m: replace(real_rules(m), fee_exponent=Decimal(2))
    )
    engine.executor.start(live.now())

    (report,) = engine.executor.take_reports()
    assert report.fills
    rate = info.market.fee_rate
    for f in report.fills:
        bought = f.size + f.fee / f.price  # a BUY pays its fee in shares
        squared = bought * rate * (f.price * (1 - f.price)) ** 2
        assert f.fee == pytest.approx(squared, abs=2e-6)
        assert f.fee < bought * rate * f.price * (1 - f.price)  # not the exponent-1 fee
    engine.executor.close()


def test_a_restarted_engine_takes_in_the_positions_the_wallet_holds(
    live: Live, tmp_path: Path
) -> None:
    """Shares bought by an earlier run count against this run's limits: the engine's books
    start from the exchange's, positions and cash alike."""
    info = pick_market(live.t, fee=False)
    ask = best(live.t, info, Outcome.YES, bid=False)
    bought = approved(live, info, price=ask, size=10)
    live.executor.execute(bought, live.now())
    assert live.intent(bought.intent_id).state is S.FILLED
    held = live.portfolio.positions[(info.market.market_id, Outcome.YES)]

    engine = restarted(live, tmp_path)
    assert engine.portfolio.positions == {}
    lines = engine.executor.start(live.now())

    assert any("taken into the engine's books" in line for line in lines), lines
    adopted = engine.portfolio.positions[(info.market.market_id, Outcome.YES)]
    assert adopted.size == pytest.approx(held.size, abs=2e-6)
    assert adopted.avg_price == pytest.approx(held.avg_price, abs=1e-6)
    assert_books_match(engine)
    assert engine.wire.count("GET /positions") == 1
    engine.executor.close()


def test_positions_that_cannot_be_read_are_said_and_do_not_stop_trading(
    live: Live, tmp_path: Path
) -> None:
    info = pick_market(live.t, fee=False)
    live.executor.execute(
        approved(live, info, price=best(live.t, info, Outcome.YES, bid=False)), live.now()
    )
    faults = live.t.fake.faults
    live.t.call(lambda: faults.http_error(503, count=None, service="gamma", path="/positions"))
    engine = restarted(live, tmp_path)
    lines = engine.executor.start(live.now())
    assert any("positions held unknown" in line and "503" in line for line in lines), lines
    assert engine.portfolio.positions == {}
    intent = approved(engine, info, price=best(live.t, info, Outcome.YES, bid=False))
    engine.executor.execute(intent, live.now())
    assert engine.intent(intent.intent_id).state is S.FILLED
    engine.executor.close()


def positions_down(lv: Live) -> None:
    """The Data API's `/positions` answers 503 until the faults are cleared."""
    faults = lv.t.fake.faults
    lv.t.call(lambda: faults.http_error(503, count=None, service="gamma", path="/positions"))


def positions_up(lv: Live) -> None:
    lv.t.call(lv.t.fake.faults.clear)


def buy(lv: Live, info: MarketInfo) -> tuple[str, Outcome]:
    """A filled BUY of YES at the ask; the key of the position it makes."""
    intent = approved(lv, info, price=best(lv.t, info, Outcome.YES, bid=False))
    lv.executor.execute(intent, lv.now())
    assert lv.intent(intent.intent_id).state is S.FILLED
    return info.market.market_id, Outcome.YES


def test_positions_unreadable_at_start_are_read_again_once_the_data_api_answers(
    live: Live, tmp_path: Path
) -> None:
    """Before, one failed read at start-up left earlier shares uncounted for the whole run."""
    key = buy(live, pick_market(live.t, fee=False))
    held = live.portfolio.positions[key]
    positions_down(live)
    engine = restarted(live, tmp_path)
    now = live.now()
    lines = engine.executor.poll(now)
    assert any("positions held unknown" in line for line in lines), lines
    assert engine.portfolio.positions == {}
    positions_up(live)
    reads = engine.wire.count("GET /positions")

    interval = engine.executor.settings.poll_interval_s
    assert engine.executor.poll(now + interval / 2) == []  # not before the interval
    assert engine.wire.count("GET /positions") == reads
    lines = engine.executor.poll(now + interval)

    assert any("taken into the engine's books" in line for line in lines), lines
    assert engine.portfolio.positions[key].size == pytest.approx(held.size, abs=2e-6)
    assert engine.portfolio.take_brought_in() > 0  # the equity marks shift by it
    assert engine.executor.poll(now + 3 * interval) == []  # read: not asked again
    assert engine.wire.count("GET /positions") == reads + 1
    engine.executor.close()


def test_positions_are_not_read_again_while_an_order_is_in_flight(
    live: Live, tmp_path: Path
) -> None:
    """Fills on the exchange but not yet on the books would be taken in as held."""
    buy(live, pick_market(live.t, fee=False))
    positions_down(live)
    engine = restarted(live, tmp_path)
    now = live.now()
    engine.executor.poll(now)
    positions_up(live)
    reads = engine.wire.count("GET /positions")
    info = pick_market(live.t, fee=False)
    approved(engine, info, price=best(live.t, info, Outcome.YES, bid=False), state=S.SUBMITTED)

    later = now + engine.executor.settings.poll_interval_s
    engine.executor.poll(later)  # resolves the SUBMITTED intent (never sent: failed)
    assert engine.wire.count("GET /positions") == reads
    lines = engine.executor.poll(later)
    assert any("taken into the engine's books" in line for line in lines), lines
    assert engine.wire.count("GET /positions") == reads + 1
    engine.executor.close()


def test_positions_read_late_keep_the_tokens_this_run_traded_as_booked(
    live: Live, tmp_path: Path
) -> None:
    """The Data API may lag a sale: a late read must not put sold shares back."""
    traded = pick_market(live.t, fee=False)
    untouched = pick_market(live.t, fee=False, other_than=traded.market.market_id)
    buy(live, traded)
    held = live.portfolio.positions[buy(live, untouched)]
    positions_down(live)
    engine = restarted(live, tmp_path)
    now = live.now()
    engine.executor.poll(now)
    key = buy(engine, traded)
    booked = engine.portfolio.positions[key].size
    positions_up(live)

    lines = engine.executor.poll(now + engine.executor.settings.poll_interval_s)

    assert any("1 token(s) already on the engine's books" in line for line in lines), lines
    assert engine.portfolio.positions[key].size == booked
    adopted = engine.portfolio.positions[(untouched.market.market_id, Outcome.YES)]
    assert adopted.size == pytest.approx(held.size, abs=2e-6)
    engine.executor.close()


def test_intents_sized_before_the_positions_were_read_expire_when_they_are(
    live: Live, tmp_path: Path
) -> None:
    """An intent this run made without the shares already held could break the position
    limits once approved; the next cycle sizes the market again, counting them."""
    held = pick_market(live.t, fee=False)
    other = pick_market(live.t, fee=False, other_than=held.market.market_id)
    buy(live, held)
    positions_down(live)
    engine = restarted(live, tmp_path)
    ask = best(live.t, held, Outcome.YES, bid=False)
    start = live.now()
    queued = approved(engine, held, price=ask, state=S.PENDING, created=start - 60)  # earlier
    engine.executor.poll(start)
    pending = approved(engine, held, price=ask, state=S.PENDING)
    ready = approved(engine, held, price=ask)
    elsewhere = approved(engine, other, price=best(live.t, other, Outcome.YES, bid=False))
    positions_up(live)

    lines = engine.executor.poll(start + engine.executor.settings.poll_interval_s)

    for intent in (pending, ready):
        assert engine.intent(intent.intent_id).state is S.EXPIRED
        assert f"intent {intent.intent_id} expired: sized before the positions" in "\n".join(lines)
    assert engine.intent(elsewhere.intent_id).state is S.APPROVED  # no holdings there
    assert engine.intent(queued.intent_id).state is S.PENDING
    assert len(engine.orders()) == 1  # the earlier run's BUY: nothing sent since
    engine.executor.close()


def test_intents_made_while_the_exchange_was_out_of_reach_expire_if_holdings_come_in(
    live: Live, tmp_path: Path
) -> None:
    """The engine trades on (paused execution) while the CLOB is down at start; what it
    queued then was sized without the shares the wallet holds."""
    info = pick_market(live.t, fee=False)
    buy(live, info)
    faults = live.t.fake.faults
    live.t.call(lambda: faults.http_error(503, count=None, service="clob"))
    engine = restarted(live, tmp_path)
    start = live.now()
    assert any("not ready" in line for line in engine.executor.poll(start))
    queued = approved(engine, info, price=best(live.t, info, Outcome.YES, bid=False))
    live.t.call(faults.clear)

    lines = engine.executor.poll(start + engine.executor.settings.poll_interval_s)

    assert any("taken into the engine's books" in line for line in lines), lines
    assert engine.intent(queued.intent_id).state is S.EXPIRED
    engine.executor.close()


def test_start_up_reports_orders_and_trades_no_intent_knows(live: Live, tmp_path: Path) -> None:
    info = pick_market(live.t)
    bid = best(live.t, info, Outcome.YES, bid=True)
    stray = approved(live, info, price=round(bid - 0.03, 2), state=S.PENDING)
    plan = replace(stray, state=S.APPROVED)
    session = live.executor.session
    session.connect()
    rules = session.market_rules(stray.market_id)
    signed = session.sign(plan_order(plan, rules, "GTC", wall_now=time.time(), gtd_seconds=300))
    session.post(signed)  # placed by hand: no intent holds its id

    engine = restarted(live, tmp_path)
    lines = engine.executor.start(live.now())

    assert any("1 open order(s) belong to no intent" in line for line in lines), lines
    assert len(engine.orders()) == 1  # left alone
    engine.executor.close()


def test_start_up_caps_the_engines_cash_at_the_exchange_balance(
    fake_polymarket_thread: ThreadedFakePolymarket, tmp_path: Path
) -> None:
    """A bankroll larger than the wallet holds would size orders the exchange refuses."""
    lv = make_live(fake_polymarket_thread, tmp_path, collateral=25_000.0)
    lines = lv.executor.start(lv.now())
    usdc, _ = lv.account()
    assert usdc < 25_000
    assert lv.portfolio.cash == pytest.approx(usdc, abs=2e-6)
    assert any("capped to the exchange balance" in line for line in lines), lines
    lv.executor.close()


# --- refused before sending ----------------------------------------------------------------


def test_exchange_minimums_are_refused_before_anything_is_sent(
    fake_polymarket_thread: ThreadedFakePolymarket, tmp_path: Path
) -> None:
    t = fake_polymarket_thread
    lv = make_live(t, tmp_path, order_type="GTC")
    info = pick_market(t)
    bid = best(t, info, Outcome.YES, bid=True)
    small = approved(lv, info, price=bid, size=3)  # resting orders need 5 shares
    cheap = approved(lv, info, price=0.1, size=6)  # a BUY needs $1
    lv.executor.execute(small, lv.now())
    lv.executor.execute(cheap, lv.now())
    assert "below the market's minimum of 5" in (lv.intent(small.intent_id).reason or "")
    assert "needs at least $1" in (lv.intent(cheap.intent_id).reason or "")
    assert lv.intent(small.intent_id).state is S.FAILED
    assert lv.intent(cheap.intent_id).state is S.FAILED
    assert lv.orders() == [] and lv.wire.count("POST /order") == 0
    lv.executor.close()


def test_market_rules_that_cannot_be_read_keep_the_intent_waiting_or_fail_it_unsent(
    live: Live,
) -> None:
    """Rules come before signing: an outage of that call leaves the intent APPROVED for a
    later try; a market the exchange does not know fails it. Neither posts anything."""
    info = pick_market(live.t)
    intent = approved(live, info, price=best(live.t, info, Outcome.YES, False))
    live.executor.poll(live.now())
    faults = live.t.fake.faults
    live.t.call(lambda: faults.http_error(502, count=None, path="/clob-markets/"))

    line = live.executor.execute(intent, live.now())

    assert "waits: exchange unreachable" in line and "HTTP 502" in line
    assert live.intent(intent.intent_id).state is S.APPROVED
    live.t.call(faults.clear)
    live.executor.execute(intent, live.now())
    assert live.intent(intent.intent_id).state is S.FILLED and len(live.orders()) == 1

    unknown = replace(
        intent, intent_id=intent.intent_id + "-gone", market_id="0x" + "ab" * 32, state=S.APPROVED
    )
    live.store.create([unknown], "run-test")
    live.executor.execute(unknown, live.now())
    failed = live.intent(unknown.intent_id)
    assert failed.state is S.FAILED and "refused before sending" in (failed.reason or "")
    assert len(live.orders()) == 1 and live.wire.count("POST /order") == 1


def test_off_grid_limit_is_snapped_to_a_safer_tick(live: Live) -> None:
    info = pick_market(live.t)
    ask = best(live.t, info, Outcome.YES, bid=False)
    intent = approved(live, info, price=ask + 0.005)  # between two ticks
    live.executor.execute(intent, live.now())
    assert live.intent(intent.intent_id).state is S.FILLED
    (order,) = live.orders()
    assert order.yes_price / 10_000 == pytest.approx(ask)  # down to the tick, never up


def test_exchange_refusal_fails_the_intent_with_its_words(live: Live) -> None:
    info = pick_market(live.t)
    bid = best(live.t, info, Outcome.YES, bid=True)
    sell = approved(live, info, side=Side.SELL, price=bid, size=10)  # holds none: no shorting
    live.executor.execute(sell, live.now())
    failed = live.intent(sell.intent_id)
    assert failed.state is S.FAILED
    assert "not enough balance / allowance" in (failed.reason or "")
    assert live.orders() == []
    (report,) = live.executor.take_reports()
    assert report.status == "unfilled" and report.fills == []


# --- resting orders, cancel, heartbeat -------------------------------------------------------


@pytest.mark.parametrize("order_type", ["GTC", "GTD"])
def test_resting_order_stays_submitted_until_it_closes(
    fake_polymarket_thread: ThreadedFakePolymarket, tmp_path: Path, order_type: str
) -> None:
    t = fake_polymarket_thread
    lv = make_live(t, tmp_path, order_type=order_type, poll_interval_s=1.0)
    info = pick_market(t)
    bid = best(t, info, Outcome.YES, bid=True)
    intent = approved(lv, info, price=round(bid - 0.03, 2), size=10)
    now = lv.now()

    lv.executor.execute(intent, now)

    assert lv.intent(intent.intent_id).state is S.SUBMITTED
    (row,) = lv.executor.open_orders()
    assert row["id"] == lv.store.get_record(intent.intent_id).order_id  # type: ignore[union-attr]
    assert row["order_type"] == order_type
    assert lv.executor.cancel([row["id"]]).canceled == (row["id"],)
    lv.executor.poll(now + 2)
    closed = lv.intent(intent.intent_id)
    assert closed.state is S.FAILED and "closed without a fill" in (closed.reason or "")
    assert len(lv.orders()) == 1 and lv.portfolio.cash == 10_000
    lv.executor.close()


def test_heartbeat_keeps_resting_orders_alive_and_its_absence_cancels_them(
    fake_polymarket_thread: ThreadedFakePolymarket, tmp_path: Path
) -> None:
    t = fake_polymarket_thread
    lv = make_live(t, tmp_path, order_type="GTC", heartbeat_interval_s=0.05)
    info = pick_market(t)
    intent = approved(lv, info, price=round(best(t, info, Outcome.YES, True) - 0.03, 2))
    lv.executor.execute(intent, lv.now())
    assert lv.executor.heartbeat is not None and lv.executor.heartbeat.running
    (order,) = lv.orders()

    def advance(seconds: float) -> None:
        t.run(t.fake.advance(seconds))

    heartbeat = lv.executor.heartbeat
    for _ in range(4):  # 20 fake seconds, heartbeats flowing
        advance(5)
        seen, deadline = heartbeat.sent, time.monotonic() + 5
        while heartbeat.sent == seen and time.monotonic() < deadline:
            time.sleep(0.01)
    assert order.status == "LIVE" and heartbeat.failures == 0
    lv.executor.close()  # the engine goes away: no more heartbeats
    advance(11)
    assert order.status == "CANCELED"


# --- the factory refuses unsafe set-ups --------------------------------------------------------


def _factory(live: LiveSettings, *, on: bool = True) -> Callable[[], ClobExecutor]:
    def build() -> ClobExecutor:
        store = IntentStore(Database("sqlite://"))
        return build_live_executor(live, live=on, store=store)

    return build


@pytest.mark.parametrize(
    ("settings", "on", "message"),
    [
        (live_settings(), False, "--live"),
        (live_settings(dry_run=True), True, "dry_run is true"),
        (LiveSettings(dry_run=False), True, "need credentials"),
        (live_settings(api_key=SecretStr("k")), True, "incomplete"),
        (live_settings(funder="0x70997970C51812dc3A010C7d01b50e0d17dc79C8"), True, "EOA"),
        (live_settings(signature_type=1), True, "set live.funder"),
        (live_settings(signature_type=2), True, "set live.funder"),
        (live_settings(signature_type=3), True, "set live.funder"),
        (
            live_settings(signature_type=2, funder="0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
            True,
            "not the key's own address",
        ),
        (live_settings(funder="0x123"), True, "not an address"),
        (live_settings(key="0x1234"), True, "not a valid secp256k1 private key"),
    ],
)
def test_the_factory_refuses_what_cannot_trade_safely(
    settings: LiveSettings, on: bool, message: str
) -> None:
    with pytest.raises(LiveSetupError, match=message.replace("$", r"\$")):
        _factory(settings, on=on)()


def test_the_factory_accepts_proxy_wallets_with_a_funder() -> None:
    proxy = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    for sig in (1, 2, 3):
        ex = _factory(live_settings(signature_type=sig, funder=proxy.lower()))()
        assert ex.session.wallet.funder == proxy and ex.session.wallet.signature_type == sig
    eoa = _factory(live_settings(key=OTHER_WALLET_KEY))()
    assert eoa.session.wallet.funder == eoa.session.wallet.signer


def test_an_unreachable_exchange_leaves_approvals_waiting_and_is_not_hammered(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{(tmp_path / 'down.db').as_posix()}")
    db.init()
    store = IntentStore(db)
    wire = Wire()
    executor = build_live_executor(
        live_settings(),
        live=True,
        store=store,
        clob=ClobSettings(host="http://127.0.0.1:9", poll_interval_s=5),
        http=httpx.Client(timeout=1.0, event_hooks={"request": [wire.hook]}),
    )
    now = 1_767_225_600.0
    intent = TradeIntent(
        "waiting-1", now, now + 300, "0xm", "1", Outcome.YES, Side.BUY, 10, 0.5, 0.9, 0.1,
        S.APPROVED,
    )  # fmt: skip
    store.create([intent], "run")
    (line,) = executor.poll(now)
    assert "not ready" in line and "cannot connect" in line
    sent = len(wire.calls)
    assert executor.poll(now + 1) == []  # within the retry interval: no request at all
    assert "waits" in executor.execute(intent, now + 2)
    assert len(wire.calls) == sent
    assert store.require("waiting-1").state is S.APPROVED
    assert executor.poll(now + 6)  # tried again
    executor.close()


def test_an_order_and_fills_missing_for_a_filled_intent_are_stored_from_the_exchange(
    live: Live, tmp_path: Path
) -> None:
    """A database written by a polyb0t that stored fills apart from the intent's final state,
    and crashed in between: the next start finds the FILLED intent without its order and books
    the exchange's trades for it (on the record, not again on the new run's portfolio)."""
    info = pick_market(live.t)
    intent = approved(live, info, price=best(live.t, info, Outcome.YES, False), size=8)
    live.executor.execute(intent, live.now())
    record = live.store.get_record(intent.intent_id)
    assert record is not None and record.intent.state is S.FILLED and record.order_id
    oid = record.order_id
    db = live.store._db
    with db.write() as conn:  # what the crash left: the state, without order and fills
        conn.execute(text("DELETE FROM fills WHERE order_id = :o"), {"o": oid})
        conn.execute(text("DELETE FROM orders WHERE order_id = :o"), {"o": oid})
    assert not live.store.has_order(oid)

    engine = restarted(live, tmp_path)
    lines = engine.executor.start(live.now())

    assert any("order and fills were missing" in line for line in lines), lines
    assert live.store.has_order(oid)
    with db.read() as conn:
        sizes = [
            r[0]
            for r in conn.execute(text("SELECT size FROM fills WHERE order_id = :o"), {"o": oid})
        ]
    assert sizes and sum(sizes) > 0
    assert engine.executor.take_reports() == []  # nothing booked twice on the new run
    engine.executor.close()


def test_a_fill_the_books_refuse_halts_trading_with_the_reason(live: Live) -> None:
    """The exchange says we sold shares the engine's books do not hold: the books no longer
    match the account, so trading halts (the console shows why) and holdings are read again."""
    info = pick_market(live.t)
    control = EngineControl()
    control.start()
    proc = processor(live, info, dry_run=False, control=control)
    stray = Fill(
        "0xfeedbeef", live.now(), info.market.market_id, Outcome.YES, Side.SELL, 0.5, 12.0, 0.0
    )
    assert isinstance(live.executor.account, DeferredAccount)
    live.executor.account.apply(BookFills("0xfeedbeef", (stray,)))
    settle(proc, live.now())
    assert control.state is EngineState.HALTED
    assert control.reason is not None
    assert control.reason.startswith("books disagree with the exchange: fill of order 0xfeedbeef")
    assert "SELL 12.00 sh YES" in control.reason
    assert live.portfolio.positions == {}  # nothing booked on a guess
    assert proc.worker is not None
    proc.worker.close()
