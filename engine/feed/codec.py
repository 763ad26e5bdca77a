"""JSON for the console's view values, so a daemon can stream them to attached consoles.

The values in `engine.feed.view` are frozen dataclasses of floats, strings, tuples and nested
values. They are encoded as JSON objects keyed by field name (self-describing, so a
mismatch between daemon and console fails with a message naming the field, never as a
silently shifted column) and decoded back, type-checked, from the field annotations.

Exactness matters because the console compares values to decide what to redraw:
- finite floats are JSON numbers; Python writes the shortest text that reads back to the
  same double, so they round-trip bit for bit (-0.0 included);
- NaN and ±infinity, which JSON lacks and which the view uses for "no value" (an empty
  book's bid, a model without a prediction), are the strings "NaN", "Infinity" and
  "-Infinity"; the decoder knows from the field's type that a string there is a float;
- `CommandResult.data` is typed `Any`, so there the decoder cannot know: non-finite floats
  are tagged `{"$float": "NaN"}` and tuples `{"$tuple": [...]}`; keys starting with "$"
  are reserved for these tags.

The output is strict JSON (`allow_nan=False`), readable by any JSON parser.

Reading is bounded like every reader of outside data (`engine.input_bounds`): nesting to
`input_bounds.MAX_DEPTH`, numbers as JSON writes them: finite (no `NaN` literal, no `1e999`
read as infinity), and a whole number read as a float within the float range; anything else
is a `CodecError`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from engine.input_bounds import OutOfBounds, bounded_float, decode_json, shown

T = TypeVar("T")

_Encode = Callable[[Any], Any]
_Decode = Callable[[Any], Any]

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_FLOAT_TAG = "$float"
_TUPLE_TAG = "$tuple"


class CodecError(ValueError):
    """Data that does not decode to the expected type; the message names where."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.reason = message
        self.path = path

    def within(self, outer: str) -> CodecError:
        """The same error seen from the enclosing value (paths read outermost first)."""
        if not self.path:
            joined = outer
        elif self.path.startswith("["):
            joined = outer + self.path
        else:
            joined = f"{outer}.{self.path}"
        return CodecError(self.reason, joined)


# --- public API ----------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """A view value (a dataclass from `engine.feed.view`) as plain JSON-ready data."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        raise TypeError(f"encode takes a view dataclass instance, got {type(value).__name__}")
    enc, _ = _converter(type(value))
    return enc(value)


def decode(cls: type[T], data: Any) -> T:
    """`data` (as `encode` made it, after a JSON round trip) back into a `cls`."""
    _, dec = _converter(typing.cast(Any, cls))
    out: T = dec(data)
    return out


def dumps(value: Any) -> str:
    """A view value as compact, strict JSON text."""
    return json_text(encode(value))


def loads(cls: type[T], text: str | bytes) -> T:
    """JSON text back into a `cls`; raises `CodecError` for anything else."""
    return decode(cls, parse_json(text))


def parse_json(text: str | bytes) -> Any:
    """Strict JSON text as Python data, nested at most `MAX_DEPTH`; `CodecError` otherwise.
    The control socket's messages are read with it too."""
    try:
        return decode_json(text, _strict_loads)
    except OutOfBounds as exc:
        raise CodecError(f"not JSON we read: {exc}") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise CodecError(f"not JSON: {exc}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _strict_loads(text: str | bytes) -> Any:
    return json.loads(text, parse_constant=_no_constant)


def json_text(data: Any) -> str:
    """Compact strict JSON (never the non-standard NaN literal). ASCII-escaped, so even a
    string with a lone surrogate (valid in Python, not in UTF-8) survives the socket."""
    return json.dumps(data, allow_nan=False, separators=(",", ":"))


# --- converters, built once per type from its annotations ---------------------------------


@cache
def _converter(tp: Any) -> tuple[_Encode, _Decode]:
    """Encoder and decoder for one annotation; cached because building reads type hints."""
    if tp is float:
        return _enc_float, _dec_float
    if tp is bool:
        return _identity, _checked(bool, "true or false")
    if tp is int:
        return _identity, _dec_int
    if tp is str:
        return _identity, _checked(str, "a string")
    if tp is Any:
        return _enc_any, _dec_any
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1 and len(args) == 2:
            return _optional(*_converter(inner[0]))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _variadic_tuple(*_converter(args[0]))
        return _fixed_tuple([_converter(a) for a in args])
    if origin is dict and args and args[0] is str:
        return _str_dict(*_converter(args[1]))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass(tp)
    raise TypeError(f"view_codec cannot encode the type {tp!r}")


def _identity(value: Any) -> Any:
    return value


def _enc_float(value: float) -> float | str:
    if math.isfinite(value):
        return float(value)  # a numpy float64 becomes a plain float
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def _dec_float(data: Any) -> float:
    kind = type(data)
    if kind is float and math.isfinite(data):
        out: float = data
        return out
    if kind is int:
        try:
            return bounded_float(data, math.inf)  # exact test, no OverflowError
        except OutOfBounds as exc:
            raise CodecError(f"expected a number: {exc}") from None
    if kind is str and data in _NON_FINITE:
        return _NON_FINITE[data]
    raise CodecError(f"expected a number, got {_show(data)}")


def _dec_int(data: Any) -> int:
    """Any whole number: the view's ints are counts and ids, never turned into floats, and
    round-trip exactly (JSON text itself bounds them to 4,300 digits)."""
    if type(data) is not int:
        raise CodecError(f"expected a whole number, got {_show(data)}")
    out: int = data
    return out


def _checked(kind: type, word: str) -> _Decode:
    def dec(data: Any) -> Any:
        if type(data) is not kind:
            raise CodecError(f"expected {word}, got {_show(data)}")
        return data

    return dec


def _optional(enc: _Encode, dec: _Decode) -> tuple[_Encode, _Decode]:
    return (
        lambda v: None if v is None else enc(v),
        lambda d: None if d is None else dec(d),
    )


def _variadic_tuple(enc: _Encode, dec: _Decode) -> tuple[_Encode, _Decode]:
    def decode_all(data: Any) -> tuple[Any, ...]:
        if type(data) is not list:
            raise CodecError(f"expected a list, got {_show(data)}")
        out = []
        for i, item in enumerate(data):
            try:
                out.append(dec(item))
            except CodecError as exc:
                raise exc.within(f"[{i}]") from None
        return tuple(out)

    return (lambda v: [enc(x) for x in v]), decode_all


def _fixed_tuple(parts: list[tuple[_Encode, _Decode]]) -> tuple[_Encode, _Decode]:
    n = len(parts)

    def encode_all(value: Any) -> list[Any]:
        return [enc(x) for (enc, _), x in zip(parts, value, strict=True)]

    def decode_all(data: Any) -> tuple[Any, ...]:
        if type(data) is not list or len(data) != n:
            raise CodecError(f"expected a list of {n}, got {_show(data)}")
        out = []
        for i, ((_, dec), item) in enumerate(zip(parts, data, strict=True)):
            try:
                out.append(dec(item))
            except CodecError as exc:
                raise exc.within(f"[{i}]") from None
        return tuple(out)

    return encode_all, decode_all


def _str_dict(enc: _Encode, dec: _Decode) -> tuple[_Encode, _Decode]:
    def encode_all(value: Any) -> dict[str, Any]:
        return {_key(k): enc(v) for k, v in value.items()}

    def decode_all(data: Any) -> dict[str, Any]:
        if type(data) is not dict:
            raise CodecError(f"expected an object, got {_show(data)}")
        out = {}
        for k, v in data.items():
            try:
                out[k] = dec(v)
            except CodecError as exc:
                raise exc.within(k) from None
        return out

    return encode_all, decode_all


def _dataclass(cls: type) -> tuple[_Encode, _Decode]:
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    plan = [(f.name, *_converter(hints[f.name])) for f in fields]
    required = {
        f.name
        for f in fields
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    name = cls.__name__

    def encode_one(value: Any) -> dict[str, Any]:
        return {field: enc(getattr(value, field)) for field, enc, _ in plan}

    def decode_one(data: Any) -> Any:
        if type(data) is not dict:
            raise CodecError(f"expected a {name} object, got {_show(data)}")
        kwargs = {}
        for field, _, dec in plan:
            if field in data:
                try:
                    kwargs[field] = dec(data[field])
                except CodecError as exc:
                    raise exc.within(field) from None
            elif field in required:
                raise CodecError(f"{name} is missing the field {field!r}")
        # Unknown keys are ignored: a newer daemon may add fields an older console
        # can do without.
        return cls(**kwargs)

    return encode_one, decode_one


# --- untyped values (CommandResult.data) -----------------------------------------------------


def _enc_any(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {_FLOAT_TAG: _enc_float(value)}
    if isinstance(value, tuple):
        return {_TUPLE_TAG: [_enc_any(v) for v in value]}
    if isinstance(value, list):
        return [_enc_any(v) for v in value]
    if isinstance(value, dict):
        return {_key(k): _enc_any(v) for k, v in value.items()}
    raise CodecError(f"cannot encode a {type(value).__name__} in untyped data")


def _dec_any(data: Any) -> Any:
    """Untyped data: containers and scalars as they are, bounded as typed numbers are.
    Recursive, so only for data `parse_json` has bounded (or that `encode` made)."""
    kind = type(data)
    if kind is list:
        return [_dec_any(v) for v in data]
    if kind is float or kind is int:
        return _dec_float(data) if kind is float else _dec_int(data)
    if kind is not dict:
        return data
    if len(data) == 1:
        if _FLOAT_TAG in data:
            return _dec_float(data[_FLOAT_TAG])
        if _TUPLE_TAG in data:
            items = data[_TUPLE_TAG]
            if type(items) is not list:
                raise CodecError(f"a {_TUPLE_TAG} tag needs a list, got {_show(items)}")
            return tuple(_dec_any(v) for v in items)
    return {k: _dec_any(v) for k, v in data.items()}


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise CodecError(f"object keys must be strings, got {_show(key)}")
    if key.startswith("$"):
        raise CodecError(f"keys starting with '$' are reserved for tags, got {key!r}")
    return key


def _show(data: Any) -> str:
    return shown(data, 40)
