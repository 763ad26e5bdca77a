"""The heartbeat dead-man switch: if the engine dies or hangs, its resting orders die with it.

Once heartbeats have started, Polymarket cancels every order of the API key when one is not
received within 10 s (docs/polymarket_api.md §4.7, `POST /v1/heartbeats`, from py-clob-client's
`post_heartbeat`). A resting order left behind by a crashed engine is exactly the order nobody
watches, so the executor keeps heartbeats going from its own thread (the SDK is synchronous;
the event loop and the engine's step thread must not carry it) while orders can rest.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from engine.execution.clob_client import ClobError

log = logging.getLogger("polyb0t.live")


class Heartbeat:
    """Calls `send(previous_id) -> next_id` every `interval_s` seconds until stopped."""

    def __init__(self, send: Callable[[str], str], interval_s: float) -> None:
        self._send = send
        self._interval = interval_s
        self._id = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0  # consecutive
        self.sent = 0  # accepted heartbeats, in all

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def beat(self) -> bool:
        """One heartbeat now; False (logged) if it failed."""
        try:
            self._id = self._send(self._id)
        except ClobError as exc:
            self.failures += 1
            if exc.status == 400:  # an id the server no longer knows: start a new chain
                self._id = ""
            log.warning("heartbeat failed (%d in a row): %s", self.failures, exc)
            return False
        self.failures = 0
        self.sent += 1
        return True

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self.beat()
        self._thread = threading.Thread(target=self._run, name="clob-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sending; the exchange cancels resting orders about 10 s later."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._interval + 15)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.beat()
