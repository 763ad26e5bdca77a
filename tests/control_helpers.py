"""What the control-socket tests share: a seeded engine, a server thread, exact comparison."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.config import Settings, load_settings
from engine.control.server import ControlServer
from polyb0t_tui.runtime import Runtime, build_runtime
from tests.engine_steps import stepped
from tests.sim_edge import with_edge

START = "2026-03-02T00:00:00Z"


def control_settings(data_dir: Path, port: int = 0, markets: int = 120) -> Settings:
    """A seeded sim run with an edge the baseline knows (`tests.sim_edge`), so that it
    proposes intents for the consoles to approve."""
    return load_settings(
        None,
        with_edge(
            {
                "data_dir": str(data_dir),
                "sim": {"seed": 7, "start": START, "markets": markets},
                "control": {"port": port},
            }
        ),
    )


def ran_runtime(data_dir: Path, *, live: bool = True, cycles: int = 3, port: int = 0) -> Runtime:
    """A dry-run live engine a few cycles into its run (so it has rows and pending intents),
    the run still open."""
    rt = build_runtime(control_settings(data_dir, port), live=live, speed=None)
    return stepped(rt, cycles)


def server_for(rt: Runtime, **options: Any) -> ControlServer:
    return ControlServer(rt.link, rt.settings.control, rt.settings.data_dir, **options)


@contextmanager
def server_thread(rt: Runtime) -> Iterator[ControlServer]:
    """The control server on its own loop in a thread, for tests of synchronous callers."""
    loop = asyncio.new_event_loop()
    server = server_for(rt)
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(server.close())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10), "the control server did not start"
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def canon(value: Any) -> Any:
    """A form where equal means identical: NaN equals NaN, -0.0 differs from 0.0, and a
    tuple differs from a list (plain == on the view values gets all three wrong)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            *(canon(getattr(value, f.name)) for f in dataclasses.fields(value)),
        )
    if isinstance(value, float):
        return ("float", value.hex())
    if isinstance(value, tuple):
        return ("tuple", *(canon(v) for v in value))
    if isinstance(value, list):
        return ("list", *(canon(v) for v in value))
    if isinstance(value, dict):
        return ("dict", *sorted((k, canon(v)) for k, v in value.items()))
    return (type(value).__name__, value)
