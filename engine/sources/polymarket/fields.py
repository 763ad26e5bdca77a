"""Reading Polymarket's loosely typed fields, once, at the edge.

See docs/polymarket_api.md, gotchas G1 (JSON text inside JSON), G4 (numbers) and G5 (timestamps).

The same quantity arrives as a JSON number in one endpoint and a string in the next, lists
arrive as JSON text inside JSON, and timestamps come in three formats. These helpers accept
every form seen in real payloads and fail with a `PolymarketParseError` that names the field.
Numbers and nested JSON text are read through `engine.input_bounds` (ASCII digits, finite,
bounded), so nothing else escapes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from engine.input_bounds import MAX_MAGNITUDE, OutOfBounds, bounded_float, decode_json
from engine.sources.polymarket.errors import PolymarketParseError

_MISSING = object()
NAN = float("nan")
MAX_ID_CHARS = 128  # a token id is a uint256: 78 digits


def require(obj: Mapping[str, Any], key: str, where: str) -> Any:
    value = obj.get(key, _MISSING)
    if value is _MISSING or value is None:
        raise PolymarketParseError.bad(f"{where}.{key}", "missing")
    return value


def as_mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolymarketParseError.bad(where, "expected a JSON object", value)
    return value


def as_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise PolymarketParseError.bad(where, "expected a JSON array", value)
    return value


def to_float(value: Any, field: str, limit: float = MAX_MAGNITUDE) -> float:
    """A finite float within ±`limit` from a JSON number or a numeric string ("0.5", ".48",
    "1e-3"); ASCII digits only."""
    try:
        return bounded_float(value, limit)
    except OutOfBounds as exc:
        raise PolymarketParseError.bad(field, str(exc), value) from None


def opt_float(obj: Mapping[str, Any], key: str, where: str, default: float) -> float:
    """`default` when the field is absent, null or an empty string (all seen for optionals)."""
    value = obj.get(key)
    if value is None or value == "":
        return default
    return to_float(value, f"{where}.{key}")


def to_price(value: Any, field: str) -> float:
    p = to_float(value, field)
    if not 0.0 <= p <= 1.0:
        raise PolymarketParseError.bad(field, "price outside [0, 1]", value)
    return p


def to_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise PolymarketParseError.bad(field, "expected true or false", value)


def opt_bool(obj: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = obj.get(key)
    return default if value is None else to_bool(value, f"{where}.{key}")


def opt_str(obj: Mapping[str, Any], key: str, where: str, default: str = "") -> str:
    value = obj.get(key)
    if value is None:
        return default
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # ids are sometimes numbers, sometimes strings
    if not isinstance(value, str):
        raise PolymarketParseError.bad(f"{where}.{key}", "expected a string", value)
    return value


def json_list(value: Any, field: str) -> list[Any]:
    """A list given either as a JSON array or as JSON text of one (Gamma's JSON-in-JSON)."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        try:
            decoded = decode_json(value)
        except (msgspec.DecodeError, OutOfBounds) as exc:
            problem = f"not JSON text of an array ({exc})"
            raise PolymarketParseError.bad(field, problem, value) from None
        if isinstance(decoded, list):
            return decoded
    raise PolymarketParseError.bad(field, "expected an array or JSON text of one", value)


def iso_ts(value: Any, field: str) -> float:
    """Epoch seconds from ISO-8601 forms Gamma uses, incl. `2026-05-09 02:07:01+00`.

    A date without a time, or a time without a zone, is taken as UTC: Gamma's `endDateIso`
    and friends are UTC dates.
    """
    if not isinstance(value, str) or not value:
        raise PolymarketParseError.bad(field, "expected an ISO-8601 date/time string", value)
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PolymarketParseError.bad(field, "not an ISO-8601 date/time", value) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def opt_iso_ts(obj: Mapping[str, Any], keys: tuple[str, ...], where: str) -> float:
    """The first present of `keys` as epoch seconds; NaN when none is (unknown, not zero)."""
    for key in keys:
        value = obj.get(key)
        if value not in (None, ""):
            return iso_ts(value, f"{where}.{key}")
    return NAN


def ms_ts(value: Any, field: str) -> float:
    """Seconds from Polymarket's millisecond timestamps (strings on the wire).

    See docs/polymarket_api.md, gotcha G5."""
    ms = to_float(value, field)
    if ms < 0:
        raise PolymarketParseError.bad(field, "negative timestamp", value)
    return ms / 1000.0


def token_id(value: Any, field: str) -> str:
    """CLOB token ids are big decimal integers; anything else cannot be subscribed to."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value) if value.bit_length() <= 4 * MAX_ID_CHARS else ""
    if not isinstance(value, str) or not value.strip():
        raise PolymarketParseError.bad(field, "expected a non-empty token id", value)
    if len(value) > MAX_ID_CHARS:
        raise PolymarketParseError.bad(field, f"longer than {MAX_ID_CHARS} characters", value)
    return value.strip()
