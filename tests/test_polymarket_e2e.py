"""End to end against the fake Polymarket: the real clients feed the same paper engine."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import pytest

from fake_polymarket import FakeConfig, ThreadedFakePolymarket
from polyb0t_tui.runtime import build_runtime
from tests.fake_exchange_fixture import edge_sim_settings, settings_against
from tests.sim_edge import EDGE_STRATEGY

pytestmark = pytest.mark.slow


def test_paper_trading_with_source_polymarket_against_the_fake(tmp_path: Path) -> None:
    # The fake's world moves on its own (fast) clock, like the real exchange would.
    with ThreadedFakePolymarket(
        edge_sim_settings(markets=40, seed=5), FakeConfig(speed=30.0)
    ) as fake:
        settings = settings_against(fake.urls, str(tmp_path / "data"), strategy=EDGE_STRATEGY)
        rt = build_runtime(settings)
        summary = asyncio.run(rt.engine.run(asyncio.Event(), duration=4.0))
    assert rt.state.n > 0, "markets discovered through Gamma"
    assert summary.cycles >= 3
    assert np.isfinite(rt.state.bid_px[: rt.state.n, 0]).any(), "books arrived"
    report = rt.storage.store.report(run_id=rt.run_id)
    assert report.signals > 0
    assert report.fills > 0


def test_gamma_down_at_start_the_engine_waits_it_out_then_trades(tmp_path: Path) -> None:
    """A daemon started during a Gamma outage keeps running with no markets, and trades once
    discovery gets through; nothing is lost in between."""
    with ThreadedFakePolymarket(
        edge_sim_settings(markets=40, seed=5), FakeConfig(speed=30.0)
    ) as fake:
        fake.call(lambda: fake.fake.faults.http_error(503, count=None, service="gamma"))
        settings = settings_against(
            fake.urls,
            str(tmp_path / "data"),
            polymarket={
                "gamma_url": fake.urls.gamma,
                "clob_url": fake.urls.clob,
                "ws_url": fake.urls.ws_market,
                "retry_attempts": 2,
                "retry_base_seconds": 0.01,
                "discovery_retry_seconds": 0.5,
            },
            strategy=EDGE_STRATEGY,
        )
        rt = build_runtime(settings)
        recover = threading.Timer(1.5, lambda: fake.call(fake.fake.faults.clear))
        recover.start()
        try:
            summary = asyncio.run(rt.engine.run(asyncio.Event(), duration=6.0))
        finally:
            recover.cancel()
    assert summary.stopped_by == "completed" and summary.errors == 0
    assert rt.state.n > 0, "markets listed once Gamma answered"
    assert np.isfinite(rt.state.bid_px[: rt.state.n, 0]).any(), "books arrived"
    report = rt.storage.store.report(run_id=rt.run_id)
    assert report.fills > 0
