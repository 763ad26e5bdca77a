"""An engine stopped in the middle of its run, for tests that act on a live run's state.

`run()` ends a run, and a run's end expires its unsent intents; tests that approve, reject or
re-check intents need a run still open. `stepped` opens the run and takes `cycles` steps on
the cycle grid, then leaves the engine idle, its run open (its inbox answers requests
directly, as no step is running to own the state).
"""

from __future__ import annotations

import asyncio

from engine.clock import SimClock
from polyb0t_tui.runtime import Runtime


async def stepped_async(rt: Runtime, cycles: int = 3) -> Runtime:
    """`stepped`, for tests that already run an event loop."""
    engine = rt.engine
    t0 = await engine.open()
    assert isinstance(rt.clock, SimClock)
    for k in range(cycles):
        now = t0 + k * rt.settings.loop_interval_seconds
        rt.clock.set(now)
        engine.step(now, True)
    engine.recorder.flush()  # what the steps wrote is in the database
    engine.inbox.close()
    return rt


def stepped(rt: Runtime, cycles: int = 3) -> Runtime:
    return asyncio.run(stepped_async(rt, cycles))
