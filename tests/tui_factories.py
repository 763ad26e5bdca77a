"""Building consoles for tests: seeded runtimes stepped before the app exists, and a fake
link that serves a recorded view (so a snapshot never depends on a running engine)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.config import Settings, load_settings
from engine.feed.view import CommandResult, MarketDetail, ViewDelta, ViewStore
from polyb0t_tui.app import PolybotApp, make_app
from polyb0t_tui.runtime import Runtime, build_runtime
from tests import engine_steps
from tests.sim_edge import with_edge

START = "2026-03-02T00:00:00Z"
FROZEN_WALL = 1_772_409_600.0  # the console's own log lines are stamped with this


def settings_for(tmp_path: Path, markets: int = 120, **extra: Any) -> Settings:
    """A seeded sim run with an edge the baseline knows (`tests.sim_edge`): the console's
    tests need signals, intents and fills to show."""
    data: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "sim": {"seed": 7, "start": START, "markets": markets},
    }
    data.update(extra)
    return load_settings(None, with_edge(data))


def stepped_runtime(settings: Settings, *, live: bool, cycles: int) -> Runtime:
    """A seeded engine `cycles` unpaced cycles into its run, then left idle with the run
    open: its view and its database stay as they were, and its link still takes commands."""
    return engine_steps.stepped(build_runtime(settings, live=live, speed=None), cycles)


async def stepped(settings: Settings, *, live: bool, cycles: int) -> Runtime:
    """`stepped_runtime` for async tests (they already run an event loop)."""
    return await engine_steps.stepped_async(build_runtime(settings, live=live, speed=None), cycles)


def console(settings: Settings, link: Any, **kwargs: Any) -> PolybotApp:
    app = make_app(settings, link, clock=lambda: FROZEN_WALL, **kwargs)
    app.animation_level = "none"
    return app


@dataclass
class FakeLink:
    """Serves one recorded view; commands are recorded and answered from `answers`."""

    delta: ViewDelta
    details: dict[str, MarketDetail] = field(default_factory=dict)
    answers: dict[str, CommandResult] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    closed: bool = False

    def __post_init__(self) -> None:
        self.store = ViewStore()
        self.store.apply(self.delta)

    def pull(self, since: int) -> ViewDelta:
        return self.store.pull(since)

    async def command(self, name: str, **args: Any) -> CommandResult:
        self.calls.append((name, args))
        return self.answers.get(name, CommandResult(True, f"{name}: ok"))

    async def detail(self, market_id: str) -> MarketDetail | None:
        return self.details.get(market_id)

    async def close(self) -> None:
        self.closed = True

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def recorded(rt: Runtime, with_details: int = 5) -> FakeLink:
    """The runtime's whole view and the detail of its busiest markets, frozen."""
    delta = rt.link.pull(0)
    # The engine was run to a fixed cycle and stopped; the console shows it as it was while
    # running (a stopped engine publishes "stopped" on the way out).
    if delta.status is not None:
        delta = replace(delta, status=replace(delta.status, state="running", reason=None))
    busiest = sorted(delta.rows, key=lambda r: -r.volume)[:with_details]
    details = {}
    for r in busiest:
        d = asyncio.run(rt.link.detail(r.market_id))
        assert d is not None
        details[r.market_id] = d
    return FakeLink(delta, details)


def halted(link: FakeLink, reason: str) -> FakeLink:
    assert link.delta.status is not None
    status = replace(link.delta.status, state="halted", reason=reason)
    return FakeLink(replace(link.delta, status=status), link.details)
