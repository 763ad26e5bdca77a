"""End to end against the fake Polymarket: the real clients feed the same paper engine."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from engine.fake_exchange import FakeConfig, ThreadedFakePolymarket
from polyb0t_tui.runtime import build_runtime
from tests.fake_exchange_fixture import settings_against, sim_settings

pytestmark = pytest.mark.slow


def test_paper_trading_with_source_polymarket_against_the_fake(tmp_path: Path) -> None:
    # The fake's world moves on its own (fast) clock, like the real exchange would.
    with ThreadedFakePolymarket(sim_settings(markets=40, seed=5), FakeConfig(speed=30.0)) as fake:
        settings = settings_against(fake.urls, str(tmp_path / "data"))
        rt = build_runtime(settings)
        summary = asyncio.run(rt.engine.run(asyncio.Event(), duration=4.0))
    assert rt.state.n > 0, "markets discovered through Gamma"
    assert summary.cycles >= 3
    assert np.isfinite(rt.state.bid_px[: rt.state.n, 0]).any(), "books arrived"
    report = rt.storage.store.report(run_id=rt.run_id)
    assert report.signals > 0
    assert report.fills > 0
