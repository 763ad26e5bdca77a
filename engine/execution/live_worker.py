"""The live executor's exchange I/O, in a thread of its own, fed by the engine step.

Sending an order can take tens of seconds (a slow answer, timeouts, backoff between attempts,
lookups before any re-send). Inside the engine step that would stop the cycles, the kill
switches and the book updates for as long, so the step only hands work over here: an approved
intent that passed its re-check to send, or a request to poll (resolve SUBMITTED intents,
start up, read the positions held again). One thread does it all, one job at a time, so the
executor itself stays single-threaded. What comes back (log lines, reports of orders that
ended, and effects on the account: fills to book, a cash cap, holdings to take in) waits
here until the step drains it and applies it to the books it owns.

At most once still holds: the executor claims APPROVED -> SUBMITTED in the database before
posting, and writes an intent's final state with its order and fills in one transaction; a
job cut off by shutdown leaves the intent SUBMITTED, and the next start looks it up.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.execution.clob_executor import ClobExecutor
from engine.execution.live_account import DeferredAccount, Effect
from engine.models import ExecutionReport, TradeIntent

log = logging.getLogger("polyb0t.live")

JOIN_SECONDS = 1.0  # shutdown waits this long for a job in flight, then leaves it


@dataclass(slots=True)
class WorkerOutput:
    """What the worker produced since the last drain, in order."""

    lines: list[str] = field(default_factory=list)
    reports: list[ExecutionReport] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Job:
    kind: str  # "poll" | "execute" | "holdings"
    intent: TradeIntent | None = None


class LiveWorker:
    def __init__(
        self, executor: ClobExecutor, account: DeferredAccount, clock: Callable[[], float]
    ) -> None:
        if executor.account is not account:
            raise ValueError("the executor must report to this worker's deferred account")
        self.executor = executor
        self.account = account
        self.clock = clock
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._out = WorkerOutput()
        self._busy: set[str] = set()  # intents handed over and not yet answered
        self._poll_queued = False
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"LiveWorker({self.executor!r})"

    # --- the engine step's side (never blocks) ----------------------------------------------

    def prepare(self, now: float) -> list[str]:
        """Start-up, before the first cycle and before the thread runs: connect and reconcile
        the account in the caller's thread (the engine waits for it, as the first intents
        must be sized against the account). Best effort; its effects are drained as usual."""
        if self._thread is not None:
            raise RuntimeError("prepare runs before the worker thread starts")
        return self.executor.poll(now)

    def poll(self) -> None:
        """Ask for a poll (coalesced: at most one waits at a time)."""
        with self._lock:
            if self._poll_queued:
                return
            self._poll_queued = True
        self._put(_Job("poll"))

    def execute(self, intent: TradeIntent) -> bool:
        """Hand over a re-checked APPROVED intent; False if it is already in hand."""
        with self._lock:
            if intent.intent_id in self._busy:
                return False
            self._busy.add(intent.intent_id)
        self._put(_Job("execute", intent))
        return True

    @property
    def idle(self) -> bool:
        """Nothing handed over is waiting or running."""
        with self._lock:
            return not self._busy and not self._poll_queued and self._jobs.empty()

    def busy(self, intent_id: str) -> bool:
        with self._lock:
            return intent_id in self._busy

    def read_holdings_soon(self) -> None:
        """The books disagree with the exchange: read the positions held at the next poll."""
        self._put(_Job("holdings"))
        self.poll()

    def drain(self) -> WorkerOutput:
        with self._lock:
            out, self._out = self._out, WorkerOutput()
        out.effects = self.account.drain()
        return out

    def close(self, timeout: float = JOIN_SECONDS) -> None:
        """Stop taking jobs; wait a moment for the one in flight, then close connections.
        A post cut off here stays SUBMITTED in the database and is looked up at next start."""
        thread = self._thread
        if thread is not None:
            self._jobs.put(None)
            thread.join(timeout)
            if thread.is_alive():
                log.warning(
                    "live executor: a call to the exchange is still in flight at shutdown; "
                    "its intent stays SUBMITTED and is resolved at the next start"
                )
        self.executor.close()

    # --- the worker thread ----------------------------------------------------------------------

    def _put(self, job: _Job) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="live-executor", daemon=True)
            self._thread.start()
        self._jobs.put(job)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            lines: list[str] = []
            try:
                lines = self._do(job)
            except Exception as exc:  # the executor reports its own failures; this is a bug
                log.exception("live executor: %s job failed", job.kind)
                lines = [f"live executor: {job.kind} failed: {type(exc).__name__}: {exc}"]
            finally:
                reports = self.executor.take_reports()
                with self._lock:
                    self._out.lines.extend(lines)
                    self._out.reports.extend(reports)
                    if job.kind == "poll":
                        self._poll_queued = False
                    if job.intent is not None:
                        self._busy.discard(job.intent.intent_id)

    def _do(self, job: _Job) -> list[str]:
        now = self.clock()
        if job.kind == "poll":
            return self.executor.poll(now)
        if job.kind == "holdings":
            self.executor.read_holdings_soon(now)
            return []
        assert job.intent is not None
        return [self.executor.execute(job.intent, now)]
