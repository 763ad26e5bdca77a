"""Turning what pydantic and the TOML reader refuse into one plain line per problem.

A bad setting stops start-up with `ConfigError`, whose lines name the setting, the value
given (unless it may be a secret: see `engine.config.secrets`) and what is allowed; never a
traceback, never a secret's value.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from engine.config.secrets import HIDDEN_FIELDS, SECRET_NAME, looks_like_secret

_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxlong, _SHOWN.maxother = 2, 60, 40, 60
_SHOWN.maxlist = _SHOWN.maxdict = 6


class ConfigError(Exception):
    """Bad configuration: `problems` holds one human line per problem."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        where = f" in {source}" if source else ""
        super().__init__(f"invalid configuration{where}:\n" + "\n".join(problems))


def _describe_allowed(err: Mapping[str, Any]) -> str:
    ctx = err.get("ctx") or {}
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown setting (see config.example.toml)"
    if "expected" in ctx:
        return f"one of {ctx['expected']}"
    for key, word in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
        if key in ctx:
            return f"a number {word} {ctx[key]}"
    return _plain_message(err)


def _plain_message(err: Mapping[str, Any]) -> str:
    return str(err.get("msg", "invalid")).removeprefix("Value error, ")


def _hidden(err: Mapping[str, Any]) -> bool:
    loc = [str(p) for p in err["loc"]]
    if any(p in HIDDEN_FIELDS for p in loc):
        return True
    if err.get("type") == "extra_forbidden" and loc and SECRET_NAME.search(loc[-1]):
        return True
    return looks_like_secret(err.get("input"))


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


def _loc_text(loc: tuple[int | str, ...]) -> str:
    """A setting's dotted name; a name from the file that is odd (a newline in it, a key
    pasted as a name) is quoted or hidden, so the problem stays one line and no secret."""
    parts = []
    for p in loc:
        text = str(p)
        if looks_like_secret(text):
            parts.append("<hidden>")
        elif _PLAIN_NAME.fullmatch(text):
            parts.append(text)
        else:
            parts.append(_SHOWN.repr(text))
    return ".".join(parts)


def format_errors(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = _loc_text(err["loc"])
        given = err.get("input")
        if isinstance(given, dict) and err.get("type") == "value_error":
            # a rule across several settings (the message names them); no value to show
            lines.append(f"{loc + ': ' if loc else ''}{_plain_message(err)}")
            continue
        if err.get("type") == "missing":
            shown = "<missing>"
        elif _hidden(err):
            shown = "<hidden>"
            if isinstance(given, int) and not isinstance(given, bool):
                shown = f"<hidden: an integer of {int(given.bit_length() * 0.30103)}+ digits>"
        elif isinstance(given, dict):
            shown = "a table"
        else:
            shown = _SHOWN.repr(given)
        lines.append(f"{loc or '(root)'}: got {shown}; allowed: {_describe_allowed(err)}")
    return lines


_ENV_FIELD = re.compile(r'field "(\w+)"')


def env_problem(exc: SettingsError) -> str:
    """pydantic-settings fails on a variable that must be JSON (a section, list or table
    given whole) and is not; its message names only the field, which is all we repeat."""
    found = _ENV_FIELD.search(str(exc))
    name = f"POLYBOT_{found.group(1).upper()}" if found else "a POLYBOT_* variable"
    return (
        f"{name}: an environment value for this setting is not valid JSON (a section, list "
        "or table set from one variable must be JSON; or set one value, e.g. "
        "POLYBOT_SIM__SEED=7)"
    )
