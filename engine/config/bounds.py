"""The bounds every number in the settings obeys, whatever its own limits.

A config file or variable is outside data: a 400-digit integer or 1e300 seconds must stop at
load time with one line, not later as an OverflowError in a timer or a database column. Every
section and the top-level settings run their values through `check_numbers`.
"""

from __future__ import annotations

from typing import Any

MAX_NUMBER = 1e12
MAX_SECONDS = 1e9  # ~31 years; below threading.TIMEOUT_MAX, so any timer accepts it


def check_numbers(value: Any, name: str) -> Any:
    """Shared by every section: finite (pydantic's allow_inf_nan) and within the bounds."""
    seconds = name.endswith("_seconds")
    limit = MAX_SECONDS if seconds else MAX_NUMBER
    items = value if isinstance(value, list) else [value]
    for v in items:
        if isinstance(v, int | float) and not isinstance(v, bool) and abs(v) > limit:
            raise ValueError(
                "a number of at most 1e9 seconds (about 31 years)"
                if seconds
                else "a number between -1e12 and 1e12"
            )
    return value
