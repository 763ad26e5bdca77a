"""How the console looks, at 80x24 (SSH) and 160x48, on a seeded sim frozen in time.

The views are recorded from seeded engines run before the app exists and served by a fake
link, and the console's own clock is frozen, so every pixel is reproducible. Update with
`pytest tests/test_tui_snapshots.py --snapshot-update` and review the SVG diff.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from polyb0t_tui.app import PolybotApp
from polyb0t_tui.screens.confirm import ConfirmScreen
from polyb0t_tui.screens.market_detail import MarketDetailScreen
from tests.tui_factories import FakeLink, console, halted, recorded, settings_for, stepped_runtime

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]
Snap = Callable[..., bool]


@pytest.fixture(scope="module")
def live_view(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, FakeLink]:
    settings = settings_for(tmp_path_factory.mktemp("live"), ui={"confirm_above_usd": 10.0})
    rt = stepped_runtime(settings, live=True, cycles=3)
    link = recorded(rt)
    rt.storage.db.close()
    return settings, link


@pytest.fixture(scope="module")
def paper_view(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, FakeLink]:
    settings = settings_for(tmp_path_factory.mktemp("paper"), markets=200)
    rt = stepped_runtime(settings, live=False, cycles=40)
    link = recorded(rt)
    rt.storage.db.close()
    return settings, link


def fresh(link: FakeLink) -> FakeLink:
    return FakeLink(link.delta, link.details, dict(link.answers))


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_in_live_dry_run(snap_compare: Snap, live_view: Any, size: Any) -> None:
    settings, link = live_view
    assert snap_compare(console(settings, fresh(link)), terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_halted_state_says_why(snap_compare: Snap, paper_view: Any, size: Any) -> None:
    settings, link = paper_view
    app = console(settings, halted(link, "daily loss limit: equity down 5.2% today"))
    assert snap_compare(app, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_market_detail(snap_compare: Snap, paper_view: Any, size: Any) -> None:
    settings, link = paper_view

    async def open_busiest(pilot: Pilot[Any]) -> None:
        await pilot.press("enter")  # the table starts sorted by volume: the busiest market
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(pilot.app.screen, MarketDetailScreen)
        assert pilot.app.screen.detail is not None

    assert snap_compare(console(settings, fresh(link)), terminal_size=size, run_before=open_busiest)


@pytest.mark.parametrize("size", SIZES)
def test_approval_confirmation_dialog(snap_compare: Snap, live_view: Any, size: Any) -> None:
    settings, link = live_view

    async def approve_first(pilot: Pilot[Any]) -> None:
        await pilot.press("1", "a")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(pilot.app.screen, ConfirmScreen)

    app = console(settings, fresh(link))
    assert snap_compare(app, terminal_size=size, run_before=approve_first)


@pytest.mark.parametrize("size", SIZES)
def test_help_lists_bindings(snap_compare: Snap, live_view: Any, size: Any) -> None:
    settings, link = live_view
    assert snap_compare(console(settings, fresh(link)), terminal_size=size, press=["?"])


def test_snapshot_console_is_deterministic(live_view: Any) -> None:
    """The app under snapshot never starts an engine and never reads the wall clock."""
    settings, link = live_view
    app = console(settings, fresh(link))
    assert isinstance(app, PolybotApp) and app.clock() == app.clock()
    assert app.bridge.worker is None
