"""Number and time formats shared by every pane, so a price reads the same everywhere.

Prices and probabilities are shown in cents (0.534 -> "53.4"): that is how Polymarket quotes
them and it saves two columns per number at 80 columns. Every formatter takes NaN and returns
a dash, because a market without a book or a prediction is normal, not an error.
"""

from __future__ import annotations

import math
import time

DASH = "-"


def cents(p: float, width: int = 5) -> str:
    if p != p:
        return DASH.rjust(width)
    return f"{p * 100:{width}.1f}"


def signed_cents(p: float, width: int = 5) -> str:
    if p != p:
        return DASH.rjust(width)
    if abs(p) < 0.0005:
        return "0.0".rjust(width)
    return f"{p * 100:+{width}.1f}"


def money(v: float) -> str:
    if v != v:
        return DASH
    return f"{v:,.2f}"


def signed_money(v: float) -> str:
    if v != v:
        return DASH
    return f"{v:+,.2f}"


def compact(v: float) -> str:
    """Volumes: 950, 18.9k, 1.2M in at most six characters."""
    if v != v:
        return DASH
    a = abs(v)
    if a < 1_000:
        return f"{v:.0f}"
    if a < 999_500:
        return f"{v / 1_000:.1f}k" if a < 99_950 else f"{v / 1_000:.0f}k"
    if a < 999_500_000:
        return f"{v / 1_000_000:.1f}M" if a < 99_950_000 else f"{v / 1_000_000:.0f}M"
    return f"{v / 1_000_000_000:.1f}B"


def time_left(seconds: float) -> str:
    """Time to resolution at most six wide: 45m, 5h12m, 12d05h, 365d, ended."""
    if seconds != seconds:
        return DASH
    if seconds <= 0:
        return "ended"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h" if days < 100 else f"{days}d"


def time_left_bucket(seconds: float) -> int:
    """Changes exactly when `time_left` may print something else (a minute at most)."""
    if seconds != seconds or seconds <= 0:
        return -1
    return int(seconds // 60)


def countdown(seconds: float) -> str:
    """Expiry countdown, m:ss (or h:mm:ss past an hour)."""
    if seconds != seconds:
        return DASH
    if seconds <= 0:
        return "0:00"
    s = math.ceil(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def age(seconds: float) -> str:
    if seconds != seconds:
        return DASH
    if seconds < 120:
        return f"{max(seconds, 0.0):.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def utc(ts: float, seconds: bool = False) -> str:
    if ts != ts:
        return DASH
    return time.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M", time.gmtime(ts))


def clock_time(ts: float) -> str:
    if ts != ts:
        return DASH
    return time.strftime("%H:%M:%S", time.gmtime(ts))


def side_label(side: str, outcome: str) -> str:
    return f"{side} {outcome}"
