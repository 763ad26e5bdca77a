"""Pieces every command shares: the parser, flag types, loading settings, output helpers.

Light on purpose: the parser is built from this module and the `*_args` modules alone, so
`polyb0t --help` and a bad flag are answered without the settings models (pydantic), the
database layer or the clients, which take most of a second to import (issue 14). What a
command needs is imported by the helper that loads it (settings, storage), which only a
running command calls, and a command's own module by `LazyCommand`."""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from engine.limits import MAX_SIM_MARKETS, SEED_MAX
from polyb0t_tui import formatting

if TYPE_CHECKING:
    from engine.config import Settings
    from polyb0t_tui.runtime import Storage

SHOWN_CHARS = 40  # of a bad flag value, in its error line


class CliError(Exception):
    """A user-facing failure: printed as one line, exit code `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """argparse, with a bad flag said in one line (argparse prints the whole usage first,
    which for `run` is a screenful that hides the one line that matters). Sub-parsers
    inherit the class."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


Command = Callable[[argparse.Namespace], int]


class LazyCommand:
    """A command's function, by module and name, imported when the command runs.

    Why: the parser is built on every invocation, `--help` and typos included. Holding the
    functions themselves would import every command's module to build it, and with them
    the database layer, numpy and the network clients, before argparse says a word. (A
    plain class: `dataclasses` alone would add a few ms of imports to every start.)
    """

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name

    def __repr__(self) -> str:
        return f"LazyCommand({self.module}:{self.name})"

    def load(self) -> Command:
        func: Command = getattr(importlib.import_module(self.module), self.name)
        return func

    def __call__(self, args: argparse.Namespace) -> int:
        return self.load()(args)


def config_parent() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--config",
        metavar="FILE",
        help="settings file (default: $POLYBOT_CONFIG, else ./polybot.toml, else defaults)",
    )
    return p


def settings_from(args: argparse.Namespace, **overrides: Any) -> Settings:
    from engine.config import load_settings

    return load_settings(getattr(args, "config", None), overrides or None)


def require_valid_keys(args: argparse.Namespace, settings: Settings) -> None:
    """The console's `[ui.keys]` remaps, checked before any console is built (and by
    `config validate`): a clash could make one key do two things, e.g. quit and approve."""
    from engine.config import ConfigError, resolve_config_path
    from polyb0t_tui.keymap import keymap_problems

    problems = keymap_problems(settings.ui.keys)
    if problems:
        path = resolve_config_path(getattr(args, "config", None))
        raise ConfigError(problems, str(path) if path else None)


def storage_from(settings: Settings, create: bool = False) -> Storage:
    """The database; `create=False` (readers) never makes a file or folder."""
    from engine.storage import StorageError
    from polyb0t_tui.runtime import StartupError, open_storage

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


def fmt_expiry(seconds_left: float) -> str:
    """Time left on an intent: "in 4m", or "expired 17m ago" once it has passed."""
    if seconds_left > 0:
        return f"in {formatting.age(seconds_left)}"
    return f"expired {formatting.age(-seconds_left)} ago"


# --- flag types ------------------------------------------------------------------------------


def shown_value(text: str) -> str:
    return repr(text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…")


def number(
    kind: type[int] | type[float],
    low: float,
    high: float | None = None,
    *,
    above: bool = False,
    why: str = "",
) -> Callable[[str], float]:
    """An argparse type: a finite `kind` in [low, high] (or > low when `above`); the
    message says what the flag takes, and `why` the reason for the bound."""
    word = "a whole number" if kind is int else "a number"
    if high is None:
        wanted = f"{word} {'>' if above else '>='} {_num(low)}"
    elif above:
        wanted = f"{word} > {_num(low)} and <= {_num(high)}"
    else:
        wanted = f"{word} from {_num(low)} to {_num(high)}"
    wanted += why

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:  # also a 5,000-digit integer
            raise argparse.ArgumentTypeError(f"takes {wanted}, got {shown_value(text)}") from None
        if (
            not math.isfinite(value)
            or value < low
            or (above and value == low)
            or (high is not None and value > high)
        ):
            raise argparse.ArgumentTypeError(f"takes {wanted}, got {shown_value(text)}")
        return value

    return parse


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def positive_number(kind: type[int] | type[float]) -> Callable[[str], float]:
    """An argparse type for a finite number > 0 of `kind`."""
    return number(kind, 0, above=True)


def seed_flag() -> Callable[[str], float]:
    return number(int, 0, SEED_MAX)


def markets_flag() -> Callable[[str], float]:
    return number(int, 1, MAX_SIM_MARKETS)


def one_line(max_chars: int) -> Callable[[str], str]:
    """An argparse type for one line of printable text, 1 to `max_chars` long."""

    def parse(value: str) -> str:
        if not value.strip() or len(value) > max_chars or not value.isprintable():
            raise argparse.ArgumentTypeError(
                f"takes one line of printable text, 1 to {max_chars} characters"
            )
        return value

    return parse


def quiet_broken_pipe() -> int:
    """What `main` does when the reader of stdout went away (`polyb0t report | head -1`).

    Nothing more can be said on stdout, and the flush at exit would fail again with a
    traceback: stdout is pointed at /dev/null and the exit status is 141, what a shell
    reports for a program killed by SIGPIPE, as `cat` or `yes` are in the same place.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141
