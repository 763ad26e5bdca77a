"""The engine's database writes, off the engine step: a writer thread fed by a queue.

The step builds its `CycleRecord` (cheap: values copied out of the engine's state) and hands
it here; one thread writes the records in order, gathering what arrives within
`BATCH_SECONDS` of the first into one transaction: a commit (the WAL frames, a checkpoint now
and then) costs more than most steps' rows, so a fast run (the headless harness does hundreds
of steps a second) writes a few transactions a second rather than one per step, and a paced
daemon's step is on disk a fraction of a second after it ran. So a step never waits for
SQLite (a snapshot batch at 10,000 markets, a WAL checkpoint) unless the queue is full, when
`submit` waits for room: memory stays bounded and a database that cannot keep up slows the
engine rather than losing records.

A write that fails is not lost silently: the error is raised by the next `submit` (the engine
step then fails, is logged and counts toward the error-rate kill switch) and by `flush`, and
every `submit` raises again for as long as the writes keep failing (the step's record is
still queued: once the database takes writes again, it is written and submits go through).
However many steps one failed transaction held, a database that stays broken therefore fails
every step, and the kill switch halts trading. What
the exchange did is never only here: live orders and fills are written by the live executor in
the same transaction as their intent's state (`IntentStore.conclude`), so a crash loses at most
the steps still queued, which the engine can always recompute from its own records.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from engine.storage.records import CycleRecord
from engine.storage.store import Store

log = logging.getLogger("polyb0t.storage")

QUEUE_RECORDS = 512  # steps the writer may fall behind before a step waits for it
BATCH_RECORDS = 256  # records written in one transaction at most
BATCH_SECONDS = 0.2  # how long the first record of a transaction waits for others


class _Flush:
    """Queued by `flush`: write what is gathered now instead of waiting for more."""


_FLUSH = _Flush()


class RecordingFailed(RuntimeError):
    """A queued record could not be written; the message says why."""


class RecordWriter:
    def __init__(self, store: Store, capacity: int = QUEUE_RECORDS) -> None:
        self.store = store
        self._queue: queue.Queue[CycleRecord | _Flush | None] = queue.Queue(maxsize=capacity)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._error: str | None = None  # a failure not yet raised to anyone
        self._failing: str | None = None  # the last write failed, with this error

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="db-writer", daemon=True)
            self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def submit(self, record: CycleRecord) -> None:
        """Queue one record (waits only while the queue is full); raises `RecordingFailed`
        if an earlier record could not be written. Without a running thread, writes now."""
        if self._thread is None:
            self._raise_failure()
            self.store.record_cycle(record)
            return
        self._queue.put(record)
        self._raise_failure()

    def flush(self) -> None:
        """Wait until every queued record is written; raises `RecordingFailed` if one was
        not."""
        if self._thread is not None:
            self._queue.put(_FLUSH)
            self._queue.join()
        self._raise_failure()

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()
        self._raise_failure()

    def _raise_failure(self) -> None:
        with self._lock:
            error, self._error = self._error, None
            failing = self._failing
        if error is not None:
            raise RecordingFailed(error)
        if failing is not None:
            raise RecordingFailed(f"{failing} (writes still failing)")

    def _run(self) -> None:
        while True:
            batch = self._gather()
            records = [r for r in batch if isinstance(r, CycleRecord)]
            try:
                if records:
                    self.store.record_cycles(records)
                    with self._lock:
                        self._failing = None
            except Exception as exc:  # reported to the engine step by the next submit
                log.error("database write of %d step(s) failed: %s", len(records), exc)
                with self._lock:
                    self._error = f"database write failed: {type(exc).__name__}: {exc}"
                    self._failing = self._error
            finally:
                for _ in batch:
                    self._queue.task_done()
            if batch[-1] is None:
                return

    def _gather(self) -> list[CycleRecord | _Flush | None]:
        """The next transaction's records: the first to arrive and whatever follows within
        `BATCH_SECONDS`, up to `BATCH_RECORDS`; cut short by a flush or the close (None)."""
        first = self._queue.get()
        batch = [first]
        deadline = time.monotonic() + BATCH_SECONDS
        while isinstance(batch[-1], CycleRecord) and len(batch) < BATCH_RECORDS:
            left = deadline - time.monotonic()
            try:
                batch.append(
                    self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
                )
            except queue.Empty:
                break
        return batch
