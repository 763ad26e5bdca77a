"""Pytest fixtures for the fake Polymarket (fake_polymarket), to wire into conftest.

Import the `*_fixture` functions (e.g. `from tests.fake_exchange_fixture import
fake_polymarket_fixture`): each registers under its short name (`fake_polymarket`), so a
test's parameter never shadows the import.

`fake_polymarket`: an async fixture, the fake on the test's own event loop with a frozen
clock (time moves only with `await fake.advance(seconds)`), so every message sequence is
deterministic. `fake_polymarket_thread`: the same on a background loop for synchronous
clients. `Trader` drives the real `py_clob_client_v2` (synchronous) from async tests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
import pytest_asyncio
from eth_account import Account
from py_clob_client_v2 import ClobClient, OrderArgs
from py_clob_client_v2.clob_types import CreateOrderOptions, RequestArgs
from py_clob_client_v2.headers.headers import create_level_2_headers
from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2

from engine.config import Settings, SimSettings, load_settings
from engine.execution.intents import IntentStore
from engine.models import IntentState, TradeIntent
from fake_polymarket import FakeConfig, FakePolymarket, FakeUrls, ThreadedFakePolymarket
from tests.sim_edge import EDGE_SIM, EDGE_STRATEGY

T = TypeVar("T")

START_TS = 1_767_225_600.0  # 2026-01-01 00:00 UTC
# Hardhat's first two well-known test keys (public, hold nothing anywhere).
WALLET_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
OTHER_WALLET_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


def sim_settings(**overrides: Any) -> SimSettings:
    """A small world: 30 markets, half in neg-risk groups, one-minute steps."""
    values: dict[str, Any] = {
        "markets": 30,
        "seed": 11,
        "step_seconds": 60.0,
        "event_group_share": 0.5,
    }
    values.update(overrides)
    return SimSettings(**values)


def edge_sim_settings(**overrides: Any) -> SimSettings:
    """`sim_settings` with an edge the baseline knows (`tests.sim_edge`), for the tests that
    need the engine to trade on the fake: give its settings `strategy=EDGE_STRATEGY`
    (`funded_live_settings` does)."""
    return sim_settings(**{**EDGE_SIM, **overrides})


def frozen_config(**overrides: Any) -> FakeConfig:
    config = FakeConfig(speed=0.0, start_ts=START_TS)
    for name, value in overrides.items():
        setattr(config, name, value)
    return config


def settings_against(urls: FakeUrls, data_dir: str, **extra: Any) -> Settings:
    """App settings for `--source polymarket` on the fake: its hosts, no control socket,
    one-second cycles; `extra` adds top-level sections (e.g. `live={...}`)."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "source": "polymarket",
        "loop_interval_seconds": 1.0,
        "polymarket": {
            "gamma_url": urls.gamma,
            "clob_url": urls.clob,
            "ws_url": urls.ws_market,
            "data_url": urls.data,
        },
        "control": {"enabled": False},
    }
    values.update(extra)
    return load_settings(None, values)


@pytest_asyncio.fixture(name="fake_polymarket")
async def fake_polymarket_fixture() -> AsyncIterator[FakePolymarket]:
    async with FakePolymarket(sim_settings(), frozen_config()) as fake:
        yield fake


@pytest.fixture(name="fake_polymarket_thread")
def fake_polymarket_thread_fixture() -> Iterator[ThreadedFakePolymarket]:
    with ThreadedFakePolymarket(sim_settings(), frozen_config()) as threaded:
        yield threaded


class Trader:
    """A wallet on the fake through the real py_clob_client_v2, its calls run in a thread."""

    def __init__(self, fake: FakePolymarket, key: str = WALLET_KEY) -> None:
        self.fake = fake
        self.client = ClobClient(fake.urls.clob, 137, key=key)

    @property
    def address(self) -> str:
        return str(self.client.get_address())

    async def login(self) -> Trader:
        creds = await asyncio.to_thread(self.client.create_or_derive_api_key)
        self.client.set_api_creds(creds)
        return self

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(fn, *args, **kwargs)

    def signed(
        self,
        token: str,
        price: float,
        size: float,
        side: str = "BUY",
        *,
        tick: str = "0.01",
        neg_risk: bool | None = None,
        order_type: str = "GTC",
        post_only: bool = False,
        expiration: int = 0,
    ) -> dict[str, Any]:
        """A `POST /order` body signed by the SDK's builder, skipping its client-side checks
        (so a test can send what the server must refuse)."""
        if neg_risk is None:  # as the SDK asks /neg-risk: sign for the right exchange
            info = self.fake.world.catalog.market_of_token(token)
            neg_risk = info is not None and info.market.neg_risk
        args = OrderArgs(token_id=token, price=price, size=size, side=side, expiration=expiration)
        order = self.client.builder.build_order(
            args, CreateOrderOptions(tick_size=tick, neg_risk=neg_risk)
        )
        creds = self.client.creds
        assert creds is not None
        body: dict[str, Any] = order_to_json_v2(order, creds.api_key, order_type, post_only)
        return body

    async def request(
        self, method: str, path: str, body: Any = None, timeout: float = 5.0
    ) -> httpx.Response:
        """An L2-signed request with exactly the bytes that were signed."""
        text = json.dumps(body, separators=(",", ":")) if body is not None else None
        args = RequestArgs(
            method=method, request_path=path.split("?")[0], body=body, serialized_body=text
        )
        headers = create_level_2_headers(self.client.signer, self.client.creds, args)
        async with httpx.AsyncClient(timeout=timeout) as c:
            return await c.request(
                method, self.fake.urls.clob + path, content=text, headers=headers
            )


def funded_live_settings(
    t: ThreadedFakePolymarket, data_dir: str, usdc: float = 1000.0, **live: Any
) -> Settings:
    """Live settings (dry run off, the test wallet, 0.2 s intent polls) against the fake,
    with the wallet funded with `usdc` and the baseline told of the edge of a fake built
    on `edge_sim_settings` (so that it proposes intents)."""
    t.call(t.fake.exchange.fund, Account.from_key(WALLET_KEY).address, usdc)
    values: dict[str, Any] = {
        "dry_run": False,
        "private_key": WALLET_KEY,
        "intent_poll_seconds": 0.2,
    }
    values.update(live)
    return settings_against(t.urls, data_dir, live=values, strategy=EDGE_STRATEGY)


async def pending_intents(store: IntentStore, tries: int = 200) -> list[TradeIntent]:
    """The engine's PENDING intents, once it has proposed some (fails if it never does)."""
    for _ in range(tries):
        pending = await asyncio.to_thread(store.list, [IntentState.PENDING])
        if pending:
            return pending
        await asyncio.sleep(0.05)
    raise AssertionError("the engine proposed nothing")


async def until_state(
    store: IntentStore, intent_id: str, done: Callable[[IntentState], bool], tries: int = 200
) -> IntentState:
    """Wait for an intent to reach a state `done` accepts; the state it has at the end."""
    state = IntentState.PENDING
    for _ in range(tries):
        state = (await asyncio.to_thread(store.require, intent_id)).state
        if done(state):
            break
        await asyncio.sleep(0.05)
    return state
