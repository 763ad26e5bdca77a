"""Logging set-up with a last line of defence for secrets.

Secrets never go into log calls in the first place (settings are only ever logged masked),
but a filter also replaces any configured secret value that slips into a record, so a stray
exception message cannot leak a key.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from pathlib import Path

from engine.redact import Redactor

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    """Masks configured secrets in a record: its message, and the traceback and stack text
    a handler's formatter would print after it (`log.exception` of an error whose message
    holds a key must not print the key)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._clean = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._clean:
            return True
        msg = record.getMessage()
        clean = self._clean(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            # Formatters print `exc_text` when it is set: render it here, once, masked.
            record.exc_text = _PLAIN.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True


_PLAIN = logging.Formatter()


def setup_logging(level: str, log_file: Path | None, secrets: Iterable[str]) -> None:
    root = logging.getLogger("polyb0t")
    root.setLevel(level)
    root.handlers.clear()
    root.propagate = False
    redact = RedactSecrets(secrets)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for h in handlers:
        h.setFormatter(logging.Formatter(FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
        h.addFilter(redact)
        root.addHandler(h)
