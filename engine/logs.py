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

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        msg = record.getMessage()
        clean = msg
        for s in self.secrets:
            clean = clean.replace(s, "********")
        if clean != msg:
            record.msg, record.args = clean, None
        return True


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
