"""Bounds on what is read from outside: numbers and JSON nesting, checked in one place.

Why: Python's own readers take more than any payload should carry, and fail in ways no
reader documents. `float("١٢٣")` and `Decimal("١٢٣")` read Arabic-Indic digits as numbers;
`"²".isdigit()` is true and `Decimal("²")` then raises `InvalidOperation`; `float(10**400)`
raises `OverflowError`; `Decimal("1e1000000")` is created without complaint and overflows
the first sum it takes part in. A JSON text nested a thousand deep raises `RecursionError`
from the decoder, or later from anything that walks it (`repr`, `==`, `json.dumps`). Each
of these escaped a reader and stopped the engine (issue 13).

So every reader of outside data (Polymarket payloads, exchange answers, the control
socket, recorded events) reads numbers with `bounded_float` / `bounded_decimal` /
`bounded_int` and decodes JSON with `decode_json`, and turns `OutOfBounds` (a
`ValueError`) into its own documented error. A number is accepted as a JSON number, or as
text made of ASCII digits in the usual forms (`"0.5"`, `".48"`, `"-3"`, `"1e-3"`, blanks
around it), at most `MAX_NUMBER_TEXT` characters, finite, and within a magnitude the caller
chooses (`MAX_MAGNITUDE` unless the field needs another).
"""

from __future__ import annotations

import math
import re
import reprlib
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec

# Arrays and objects inside each other. The deepest payload any reader takes (a Gamma event
# with markets, their events, tags) nests about 8; the console's view about 6.
MAX_DEPTH = 64
MAX_NUMBER_TEXT = 100  # characters of a number written as text (a uint256 has 78 digits)
# Above every price, size, volume and millisecond timestamp (1e15 ms is the year 33658),
# far below where a float stops holding whole numbers exactly (2**53 ~ 9e15).
MAX_MAGNITUDE = 1e15
# `re.ASCII` is not needed with [0-9]; `\d` would match every Unicode digit.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_BLANKS = " \t\r\n"
_FLOAT_MAX = sys.float_info.max
_SHOWN = 80  # characters of a value kept in a message


class OutOfBounds(ValueError):
    """A value a reader must refuse: not a number, not ASCII, too large, nested too deep.

    The message says what is wrong, without the value (the reader adds it, shortened)."""


def number_text(text: str) -> str:
    """`text` without the blanks around it, if it is a number in ASCII digits."""
    out = text.strip(_BLANKS)
    if len(out) > MAX_NUMBER_TEXT:
        raise OutOfBounds(f"not a number (more than {MAX_NUMBER_TEXT} characters)")
    if _NUMBER.fullmatch(out) is None:
        raise OutOfBounds("not a number")
    return out


def _beyond(limit: float) -> OutOfBounds:
    return OutOfBounds(f"beyond the bound of {limit:g} in magnitude")


def bounded_float(value: object, limit: float = MAX_MAGNITUDE) -> float:
    """A finite float with |x| <= `limit`, from a JSON number or a number as text."""
    if isinstance(value, bool):  # an int subclass; never a quantity
        raise OutOfBounds("expected a number")
    if isinstance(value, int):
        # Exact for any int (no float conversion); the float range bounds an infinite limit.
        if not -limit <= value <= limit or not -_FLOAT_MAX <= value <= _FLOAT_MAX:
            raise _beyond(limit)
        return float(value)
    if isinstance(value, float):
        out = float(value)
    elif isinstance(value, str):
        out = float(number_text(value))
    else:
        raise OutOfBounds("expected a number")
    if not math.isfinite(out):
        raise OutOfBounds("not finite")
    if not -limit <= out <= limit:
        raise _beyond(limit)
    return out


def bounded_decimal(value: object, limit: float = MAX_MAGNITUDE) -> Decimal:
    """A finite Decimal with |x| <= `limit`, from a JSON number, a number as text, or a
    Decimal. A float goes through its shortest text (0.57, not 0.56999...)."""
    if isinstance(value, bool):
        raise OutOfBounds("expected a number")
    if isinstance(value, Decimal):
        out = value
    elif isinstance(value, int):
        if not -limit <= value <= limit:
            raise _beyond(limit)
        out = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise OutOfBounds("not finite")
        out = Decimal(repr(float(value)))
    elif isinstance(value, str):
        out = Decimal(number_text(value))
    else:
        raise OutOfBounds("expected a number")
    if not out.is_finite():
        raise OutOfBounds("not finite")
    if out.copy_abs() > Decimal(limit):  # copy_abs: `abs` rounds, and may overflow
        raise _beyond(limit)
    return out


def bounded_int(value: object, limit: int) -> int:
    """A JSON whole number (never a bool, a float or text) with |x| <= `limit`."""
    if type(value) is not int:
        raise OutOfBounds("expected a whole number")
    if not -limit <= value <= limit:
        raise _beyond(limit)
    return value


# --- nesting -------------------------------------------------------------------------------

_ESCAPE = re.compile(rb"\\.", re.DOTALL)  # a backslash and the character it escapes
_OPEN, _CLOSE = b"(", b")"
_PAIR = _OPEN + _CLOSE
# Everything but quotes and brackets deleted; both kinds of bracket made one.
_NOT_MARKS = bytes(c for c in range(256) if c not in b'"[]{}')
_ONE_KIND = bytes.maketrans(b"[{]}", _OPEN * 2 + _CLOSE * 2)


def too_deep(raw: bytes | str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text nests arrays/objects deeper than `limit`, read from the text itself.

    Why before decoding, not by catching `RecursionError`: a decoder raises that only at
    the interpreter's recursion limit, and `py_ecc` (loaded with the CLOB client) raises
    the limit to 100,000 at import, where msgspec and json overflow the C stack at ~40,000
    levels and kill the process. So the depth is read first: nothing to do for a text with
    at most `limit` opening brackets (most frames: two `count`s); else escapes and strings
    are cut out, the brackets kept, and innermost pairs removed one level per pass, at most
    `limit` passes (~1-2 µs per kB, about what decoding costs). A balanced text
    is exact; an unbalanced one (not JSON) counts its unclosed brackets too, as a decoder
    would recurse into them before finding the end.
    """
    if isinstance(raw, str):
        if raw.count("[") + raw.count("{") <= limit:
            return False
        data = raw.encode("utf-8", "surrogatepass")
    else:
        data = bytes(raw)
        if data.count(b"[") + data.count(b"{") <= limit:
            return False
    if b"\\" in data:  # escapes first: then every quote opens or closes a string
        data = _ESCAPE.sub(b"", data)
    # Quotes and brackets only. Whether a bracket is inside a string is the parity of the
    # quotes before it, which dropping two adjacent quotes keeps: most strings hold no
    # bracket and go, and the few pieces left are cheap to split.
    marks = data.translate(None, _NOT_MARKS).replace(b'""', b"")
    if b'"' in marks:
        marks = b"".join(marks.split(b'"')[::2])  # the brackets between strings
    brackets = marks.translate(_ONE_KIND)
    run = _OPEN * (limit + 1)  # that many opened in a row: too deep, whatever follows
    for depth in range(limit + 1):
        if run in brackets:
            return True
        inner = brackets.replace(_PAIR, b"")
        if len(inner) == len(brackets):  # nothing left to pair: ")))(((" at most
            return depth + inner.count(_OPEN) > limit
        brackets = inner
        run = run[1:]  # one level removed: a shorter run is as deep
    return True


def decode_json(
    raw: bytes | str,
    decode: Callable[[bytes | str], Any] = msgspec.json.decode,
    limit: int = MAX_DEPTH,
) -> Any:
    """`decode(raw)`, refusing with `OutOfBounds` a text nested deeper than `limit` before
    the decoder sees it (see `too_deep`). The decoder's own errors (not JSON at all) pass
    through for the caller to name."""
    if too_deep(raw, limit):
        raise OutOfBounds(f"nested more than {limit} deep")
    try:
        return decode(raw)
    except RecursionError:  # pragma: no cover - too_deep refuses whatever could recurse
        raise OutOfBounds(f"nested more than {limit} deep") from None


# --- messages ------------------------------------------------------------------------------


class _Short(reprlib.Repr):
    """`repr` that never fails or runs long: containers to a few levels and items, long
    texts and huge integers cut before they are converted (`repr` of an int of more than
    4,300 digits raises `ValueError`)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = self.maxother = self.maxlong = _SHOWN

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 256:
            return f"<an integer of about {int(x.bit_length() * math.log10(2)) + 1} digits>"
        return super().repr_int(x, level)

    def repr_bytes(self, x: bytes, level: int) -> str:
        return repr(x[: self.maxstring]) + ("..." if len(x) > self.maxstring else "")


_SHORT = _Short()


def shown(value: Any, width: int = _SHOWN) -> str:
    """A short repr of an outside value for a message: payloads can be megabytes, nested
    or huge, and a log line should be none of these."""
    text = _SHORT.repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."
