"""`--source replay`: a recorded feed played back through the same engine.

A run with `record = true` stores every source event it received (and the markets it
discovered, as listings at its start). Replaying feeds those events back in arrival order on
a simulated clock that starts where the recording started, so the universe filter, features,
strategy, risk and fills run exactly as they would have on the live feed. The replay ends
where the recording did (`ends_at`).
"""

from __future__ import annotations

import logging
from collections import deque

from engine.events import SourceEvent
from engine.models import Market
from engine.sources.event_codec import EventDecodeError, decode_event
from engine.storage import RecordedEvent, Store

log = logging.getLogger("polyb0t.replay")


class ReplayError(RuntimeError):
    """Nothing to replay, or the named recording does not exist."""


class ReplaySource:
    name = "replay"

    def __init__(self, store: Store, run_id: str | None = None, batch: int = 5_000) -> None:
        run = run_id or store.latest_recording()
        if run is None:
            raise ReplayError(
                "no recorded events to replay: run once with `record = true` "
                "(POLYBOT_RECORD=true) to record a feed"
            )
        span = store.recording_span(run)
        if span is None and store.run(run) is None:
            raise ReplayError(f"no run {run!r} in this database; `polyb0t status` shows the latest")
        if span is None:
            raise ReplayError(
                f"run {run} recorded no events (it ran without `record = true`); "
                f"`polyb0t report --run {run}` shows what it did"
            )
        self.store = store
        self.run_id = run
        self.start_ts, self.end_ts, self.count = span
        recorded = store.run(run)
        # The recording ends when its run did (cycles may follow its last event); a run that
        # never recorded its end (killed) ends at its last event.
        ended = recorded.ended_ts if recorded is not None else None
        self._ends_at = max(ended, self.end_ts) if ended is not None else self.end_ts
        self.batch = batch
        self._cursor = 0
        self._buffer: deque[RecordedEvent] = deque()
        self._exhausted = False

    def ends_at(self) -> float:
        return self._ends_at

    async def start(self) -> None:
        log.info(
            "replaying run %s: %d events over %.0f s",
            self.run_id,
            self.count,
            self.end_ts - self.start_ts,
        )

    def discover(self) -> list[Market]:
        return []  # markets arrive as the recording's own listings, at its start

    def poll(self, now: float) -> list[SourceEvent]:
        out: list[SourceEvent] = []
        while True:
            if not self._buffer and not self._refill():
                break
            head = self._buffer[0]
            if head.ts > now:
                break
            self._buffer.popleft()
            self._cursor = head.id
            try:
                out.append(decode_event(head.kind, head.payload))
            except EventDecodeError as exc:
                log.warning("skipping recorded event %d: %s", head.id, exc)
        return out

    def _refill(self) -> bool:
        if self._exhausted:
            return False
        rows = self.store.recorded_events(self.run_id, after_id=self._cursor, limit=self.batch)
        if not rows:
            self._exhausted = True
            return False
        self._buffer.extend(rows)
        return True

    @property
    def finished(self) -> bool:
        return self._exhausted and not self._buffer

    async def stop(self) -> None:
        return None
