"""The interface every market data source implements.

The engine pulls: each step it calls `poll(now)` and gets every event up to `now`. A simulated
source computes the world up to `now` (so a seeded run is reproducible whatever the machine's
speed); a network source drains what its websocket tasks queued. `poll` may do CPU work, so
the runner calls it off the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from engine.events import SourceEvent
from engine.models import Market


class SourceStartError(RuntimeError):
    """The source cannot start as configured (a wrong host, a refused request): the run
    ends at once, saying what failed. Outages are not this: a source rides them out."""


class MarketSource(Protocol):
    name: str

    async def start(self) -> None:
        """Connect / build the world. Called once before `discover`; raises
        `SourceStartError` only for what waiting will not fix."""
        ...

    def discover(self) -> list[Market]:
        """Markets known now (the Gamma listing). New ones later arrive as `MarketListed`."""
        ...

    def poll(self, now: float) -> list[SourceEvent]:
        """Every event with a timestamp <= `now` not returned before, in time order."""
        ...

    async def stop(self) -> None: ...


@runtime_checkable
class FiniteSource(Protocol):
    """A source with nothing more to give after some engine time (a replay ends where its
    recording did): the run stops there instead of cycling on stale books forever."""

    def ends_at(self) -> float:
        """Engine time after which no event will come."""
        ...


@runtime_checkable
class TruthSource(Protocol):
    """A source that knows each market's true P(YES) (the simulator does; no exchange can).

    The recorder asks for it every `ml.sample_interval_seconds` of engine time and stores it
    for validation (`sim_truth`). Nothing else reads it: it never enters `MarketState`, the
    features or a predictor, which see a simulated market exactly as they see a real one.
    """

    def truth_at(self, t: float) -> tuple[Sequence[str], npt.NDArray[np.float64]]:
        """The open markets' ids and true P(YES) as of engine time `t` (after `poll(t)`)."""
        ...
