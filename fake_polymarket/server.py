"""Start and stop the fake Polymarket on 127.0.0.1: Gamma, CLOB and websockets on three ports.

Why aiohttp: one small, well-known library (pure asyncio, no ASGI server or framework on
top) that serves HTTP and websockets from the same event loop as the simulated world, so a
world step, the matching of an order and the messages it causes happen in one thread without
locks, and a test can drive it all from its own loop. Production keeps Gamma, CLOB and the
websocket service on separate hosts, and Gamma and CLOB both have a `/markets` with different
shapes, so each service gets its own port here too: a client is configured with three base
URLs exactly as against production.

Use it as an async context manager (`async with FakePolymarket(...) as fake:`), from a
pytest fixture (tests/fake_exchange_fixture.py), from synchronous code through
`ThreadedFakePolymarket`, or standalone with `main_async` (the `polyb0t fake-exchange` CLI).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from engine.config import SimSettings
from fake_polymarket.clob_api import ClobPublicApi
from fake_polymarket.config import FakeConfig
from fake_polymarket.data_api import DataApi
from fake_polymarket.faults import Faults
from fake_polymarket.gamma_api import GammaApi
from fake_polymarket.market_ws import MarketHub
from fake_polymarket.orders import Exchange
from fake_polymarket.state import FakeWorld
from fake_polymarket.trading_api import TradingApi
from fake_polymarket.user_ws import UserHub

log = logging.getLogger("polyb0t.fake")
T = TypeVar("T")
JSON = dict[str, Any]


@dataclass(slots=True, frozen=True)
class FakeUrls:
    """Base URLs, shaped like production's (`gamma`, `clob`, and the websocket root)."""

    gamma: str
    clob: str
    ws: str  # append /ws/market or /ws/user, as with wss://ws-subscriptions-clob...

    @property
    def data(self) -> str:
        """The Data API (positions), served on the Gamma port."""
        return self.gamma

    @property
    def ws_market(self) -> str:
        return f"{self.ws}/ws/market"

    @property
    def ws_user(self) -> str:
        return f"{self.ws}/ws/user"


def describe(urls: FakeUrls) -> str:
    """The lines the CLI prints: where each service listens."""
    return "\n".join(
        (
            f"gamma     {urls.gamma}",
            f"clob      {urls.clob}",
            f"ws market {urls.ws_market}",
            f"ws user   {urls.ws_user}",
            f"data      {urls.data}",
        )
    )


class FakePolymarket:
    """The fake: a `FakeWorld`, its HTTP apps and websocket hubs, and the stepping task."""

    def __init__(
        self,
        sim: SimSettings | None = None,
        config: FakeConfig | None = None,
        *,
        host: str = "127.0.0.1",
        ports: tuple[int, int, int] = (0, 0, 0),
        faults: Faults | None = None,
    ) -> None:
        self.config = config or FakeConfig()
        self.faults = faults or Faults()
        self.host = host
        self._ports = ports
        self.market_hub = MarketHub(self.faults, self.config.ws_max_assets)
        self.user_hub = UserHub(self.faults)
        self.world = FakeWorld(sim or SimSettings(), self.config, self)
        self.market_hub.world = self.world
        self.user_hub.keyring = self.world.keyring
        self._runners: list[web.AppRunner] = []
        self._stepper: asyncio.Task[None] | None = None
        self._urls: FakeUrls | None = None

    # --- Publisher (what the world calls) -------------------------------------------------------

    def market(self, payload: JSON, assets: Sequence[str], *, custom: bool = False) -> None:
        self.market_hub.publish(payload, assets, custom)

    def new_market(self, payload: JSON) -> None:
        self.market_hub.publish_new_market(payload)

    def user(self, owner: str, market: str, payload: JSON) -> None:
        self.user_hub.publish(owner, market, payload)

    def interested(self, assets: Sequence[str]) -> bool:
        return self.market_hub.interested(assets)

    # --- life ------------------------------------------------------------------------------------

    @property
    def exchange(self) -> Exchange:
        return self.world.exchange

    @property
    def urls(self) -> FakeUrls:
        if self._urls is None:
            raise RuntimeError("the fake is not started")
        return self._urls

    def _apps(self) -> list[web.Application]:
        gamma = web.Application(middlewares=[self.faults.middleware("gamma")])
        GammaApi(self.world).routes(gamma)
        DataApi(self.world).routes(gamma)
        clob = web.Application(middlewares=[self.faults.middleware("clob")])
        ClobPublicApi(self.world).routes(clob)
        TradingApi(self.world, self.faults).routes(clob)
        ws = web.Application()
        ws.router.add_get("/ws/market", self.market_hub.handle)
        ws.router.add_get("/ws/user", self.user_hub.handle)
        return [gamma, clob, ws]

    async def start(self) -> FakeUrls:
        bases: list[str] = []
        for app, port in zip(self._apps(), self._ports, strict=True):
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
            await runner.setup()
            site = web.TCPSite(runner, self.host, port)
            await site.start()
            self._runners.append(runner)
            bases.append(f"{self.host}:{runner.addresses[-1][1]}")
        self._urls = FakeUrls(f"http://{bases[0]}", f"http://{bases[1]}", f"ws://{bases[2]}")
        self._stepper = asyncio.create_task(self._run_world(), name="fake-polymarket-world")
        return self._urls

    async def stop(self) -> None:
        if self._stepper is not None:
            self._stepper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stepper
            self._stepper = None
        await self.market_hub.close_all()
        await self.user_hub.close_all()
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()

    async def __aenter__(self) -> FakePolymarket:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def _run_world(self) -> None:
        while True:
            await asyncio.sleep(self.config.step_interval_s)
            try:
                self.world.step()
            except Exception:  # a broken step must not kill the server; it shows in the log
                log.exception("fake exchange step failed")

    async def advance(self, seconds: float) -> None:
        """Move the fake clock forward and apply everything that happens meanwhile."""
        self.world.advance(seconds)
        await asyncio.sleep(0)  # let writer tasks pick the messages up

    def set_speed(self, speed: float) -> None:
        self.world.clock.set_speed(speed)


class ThreadedFakePolymarket:
    """The fake on its own event loop in a thread, for synchronous code (e.g. py_clob_client).

    `with ThreadedFakePolymarket(sim, config) as t:` gives `t.fake` and `t.urls`; run anything
    that touches the fake's state on its loop with `t.call(fn)` or `t.run(coroutine)`.
    """

    def __init__(
        self, sim: SimSettings | None = None, config: FakeConfig | None = None, **kw: Any
    ) -> None:
        self._args = (sim, config, kw)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fake-polymarket", daemon=True
        )
        self._fake: FakePolymarket | None = None

    @property
    def fake(self) -> FakePolymarket:
        if self._fake is None:
            raise RuntimeError("not started")
        return self._fake

    @property
    def urls(self) -> FakeUrls:
        return self.fake.urls

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def call(self, fn: Any, *args: Any) -> Any:
        async def inline() -> Any:
            return fn(*args)

        return self.run(inline())

    def __enter__(self) -> ThreadedFakePolymarket:
        self._thread.start()
        sim, config, kw = self._args

        async def build() -> FakePolymarket:
            fake = FakePolymarket(sim, config, **kw)
            await fake.start()
            return fake

        self._fake = self.run(build())
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fake is not None:
            self.run(self._fake.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


async def main_async(
    host: str = "127.0.0.1",
    port: int = 0,
    sim_settings: SimSettings | None = None,
    speed: float = 1.0,
    faults: Faults | None = None,
    config: FakeConfig | None = None,
) -> None:
    """Serve until cancelled; Gamma on `port`, CLOB on `port + 1`, websockets on `port + 2`
    (all random when `port` is 0). Prints the base URLs once listening."""
    cfg = config or FakeConfig()
    cfg.speed = speed
    ports = (port, port + 1, port + 2) if port else (0, 0, 0)
    async with FakePolymarket(sim_settings, cfg, host=host, ports=ports, faults=faults) as fake:
        print(describe(fake.urls), flush=True)
        await asyncio.Event().wait()
