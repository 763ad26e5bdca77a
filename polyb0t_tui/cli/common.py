"""Pieces every command shares: the --config option, loading settings, output helpers."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from engine.config import Settings, load_settings
from engine.storage import StorageError
from polyb0t_tui.runtime import StartupError, Storage, open_storage


class CliError(Exception):
    """A user-facing failure: printed as one line, exit code `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def config_parent() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--config",
        metavar="FILE",
        help="settings file (default: $POLYBOT_CONFIG, else ./polybot.toml, else defaults)",
    )
    return p


def settings_from(args: argparse.Namespace, **overrides: Any) -> Settings:
    return load_settings(getattr(args, "config", None), overrides or None)


def storage_from(settings: Settings, create: bool = False) -> Storage:
    try:
        return open_storage(settings, create=create)
    except (StorageError, StartupError) as exc:
        raise CliError(str(exc)) from None


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, sort_keys=False))


def fmt_ts(ts: float | None) -> str:
    if ts is None or ts != ts:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


def fmt_age(seconds: float) -> str:
    if seconds < 0:
        return f"in {fmt_age(-seconds)}"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def positive_number(kind: type[int] | type[float]) -> Callable[[str], float]:
    """An argparse type for a number > 0 of `kind`, with a message naming what was given."""
    word = "a whole number" if kind is int else "a number"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {word}, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
        return value

    return parse
