"""The log's last line of defence: a configured secret never reaches a log line, whether it
slips into a message, its arguments, or the text of an exception logged with its traceback."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.logs import RedactSecrets, setup_logging

KEY = "0x" + "5e" * 32
PASSPHRASE = "correct-horse-battery"


@pytest.fixture
def logged(tmp_path: Path) -> Iterator[tuple[Path, io.StringIO]]:
    """The daemon's logging (terminal and file); the terminal handler writes to a buffer."""
    path = tmp_path / "logs" / "polyb0t.log"
    setup_logging("INFO", path, [KEY, PASSPHRASE, "", "abc"])
    terminal = io.StringIO()
    for h in logging.getLogger("polyb0t").handlers:
        if type(h) is logging.StreamHandler:
            h.setStream(terminal)
    yield path, terminal  # the logger is put back by conftest's `_app_logger_restored`


def _fail_with_key() -> None:
    raise ValueError(f"signer refused key {KEY}")


def test_secrets_are_masked_in_messages_arguments_and_tracebacks(
    logged: tuple[Path, io.StringIO],
) -> None:
    log = logging.getLogger("polyb0t.test")
    log.info("creds %s / %s", KEY, PASSPHRASE)
    log.warning(f"inline {PASSPHRASE}")
    try:
        _fail_with_key()
    except ValueError:
        log.exception("order signing failed")
    for handler in logging.getLogger("polyb0t").handlers:
        handler.flush()
    log_file, terminal = logged
    for text in (terminal.getvalue(), log_file.read_text(encoding="utf-8")):
        assert KEY not in text and PASSPHRASE not in text
        assert "creds ******** / ********" in text and "inline ********" in text
        assert "ValueError: signer refused key ********" in text  # the traceback is kept
        assert "Traceback (most recent call last)" in text


def test_short_or_empty_secrets_are_not_masked_everywhere() -> None:
    """A 3-character "secret" would blank out ordinary words in every line."""
    record = logging.LogRecord("polyb0t", logging.INFO, __file__, 1, "abc %s", ("x",), None)
    assert RedactSecrets(["", "abc"]).filter(record)
    assert record.getMessage() == "abc x"


def test_every_handler_sees_the_masked_record() -> None:
    """The filter rewrites the record itself, so a handler added after it (the console's
    log pane) reads the masked text too."""
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage() + (record.exc_text or ""))

    logger = logging.getLogger("polyb0t.redact-test")
    logger.propagate = False
    first, second = Collect(), Collect()
    first.addFilter(RedactSecrets([KEY]))
    logger.addHandler(first)
    logger.addHandler(second)
    try:
        try:
            _fail_with_key()
        except ValueError:
            logger.exception("failed for %s", KEY)
    finally:
        logger.removeHandler(first)
        logger.removeHandler(second)
    assert len(seen) == 2
    for text in seen:
        assert KEY not in text and "failed for ********" in text


def test_every_module_logs_under_the_app_logger() -> None:
    """A logger named after its module (`engine.sources...`) sits outside `polyb0t`: its lines
    would miss the log file, the console's pane, the timestamps and the secret filter."""
    import importlib
    import pkgutil

    for package in ("engine", "ml", "polyb0t_tui"):
        root = importlib.import_module(package)
        for mod in pkgutil.walk_packages(root.__path__, f"{package}."):
            if not mod.name.endswith(".__main__"):  # that one runs the CLI
                importlib.import_module(mod.name)
    ours = ("engine", "ml", "polyb0t_tui")
    stray = [name for name in logging.root.manager.loggerDict if name.split(".")[0] in ours]
    assert stray == []
    assert "polyb0t.polymarket.ws" in logging.root.manager.loggerDict
