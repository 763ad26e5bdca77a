"""Small HTTP helpers shared by the Gamma and CLOB apps: JSON bodies, query lists, cursors."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from multidict import MultiMapping

END_CURSOR = "LTE="  # base64 of "-1": no more pages


def reply(data: Any, status: int = 200) -> web.Response:
    """Compact JSON, as Polymarket's servers send it."""
    return web.Response(
        status=status, text=json.dumps(data, separators=(",", ":")), content_type="application/json"
    )


def error(status: int, message: str) -> web.Response:
    return reply({"error": message}, status)


def query_list(q: MultiMapping[str], name: str) -> list[str]:
    """A list parameter sent repeated (`?a=1&a=2`) or comma-joined (`?a=1,2`): accept both."""
    return [v for raw in q.getall(name, []) for v in raw.split(",") if v]


def query_bool(q: Mapping[str, str], name: str) -> bool | None:
    raw = q.get(name)
    if raw is None:
        return None
    return raw.strip().lower() in ("true", "1", "yes")


def query_float(q: Mapping[str, str], name: str) -> float | None:
    raw = q.get(name)
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        return None


def query_ts(q: Mapping[str, str], name: str) -> float | None:
    """An ISO date/datetime parameter as unix seconds (naive values read as UTC)."""
    raw = q.get(name)
    if not raw:
        return None
    try:
        d = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return d.timestamp()


def encode_cursor(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    """Offset of a `next_cursor` ("MA==" is 0); -1 for the end; None when unreadable."""
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(cursor, validate=True).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def page(items: list[Any], cursor: str | None, size: int) -> dict[str, Any] | None:
    """The cursor-paged envelope of CLOB lists; None for a bad cursor."""
    offset = decode_cursor(cursor)
    if offset is None:
        return None
    chunk = items[offset : offset + size] if offset >= 0 else []
    end = offset + size
    nxt = encode_cursor(end) if offset >= 0 and end < len(items) else END_CURSOR
    return {"data": chunk, "next_cursor": nxt, "limit": size, "count": len(chunk)}
