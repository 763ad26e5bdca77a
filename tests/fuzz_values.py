"""Hypothesis strategies for fuzzing the readers of outside data (`tests/test_fuzz_*.py`).

What a hostile or broken peer can send: JSON-like values of every type in every field
(huge integers, non-finite and non-ASCII numbers, numbers as text, deep nesting), valid
payloads mutated field by field, and raw texts (JSON of all of these, deep brackets,
truncations, bytes that are not UTF-8). Deterministic (`derandomize`), so CI runs the same
cases every time, and sized so the whole fuzz suite stays within ~30 s on two cores.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from engine.input_bounds import MAX_DEPTH

Path = tuple[str | int, ...]

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


# A longer run than CI's, same properties: FUZZ_SCALE=20 python -m pytest tests/test_fuzz_*
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def fuzz(examples: int) -> settings:
    """Settings of one fuzz property: `examples` cases (times `SCALE`), the same ones on
    every run."""
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=_QUIET,
    )


# --- scalars ---------------------------------------------------------------------------------

# Integers no float (or Decimal context) can take; 10**4000 is still within what a JSON
# decoder gives back (Python refuses texts of more than 4,300 digits). Built from small
# draws, so that a failing example's repr stays readable.
_EXPONENTS = st.sampled_from([15, 16, 19, 20, 63, 64, 308, 309, 400, 4000])
HUGE_INTS = st.builds(
    lambda e, sign, add: sign * 10**e + add,
    _EXPONENTS,
    st.sampled_from([1, -1]),
    st.integers(-1, 1),
)
INTS = st.integers() | HUGE_INTS | st.integers(0, 1500).map(lambda b: 2**b)
FLOATS = st.floats() | st.sampled_from([1e308, -1e308, 5e-324, -0.0, 1e15, 1e16, 1e300])
_ODD_NUMBERS = [
    "²", "١٢٣", "١٠٠٠٠٠٠", "１０００", "٠.٥", "0.５", "½", "1e1000000", "1e-1000000",
    "-1e1000000", "NaN", "nan", "inf", "-Infinity", "sNaN", "1_000", "0x10", " 0.5 ", ".48",
    "5.", "+.5", "1e", "e5", "", " ", "-", "1" * 401, "9" * 100, "1e308", "1e309",
    "0." + "0" * 98 + "1", "1E+2", "00012", "\u00a05", "5\u3000", "1,5", "1e+999", "-0",
]  # fmt: skip
# Digits Python reads as numbers, or trips on, that no payload should carry: Arabic-Indic,
# Persian, Devanagari, Bengali, fullwidth, superscripts, fractions, Roman numerals, maths
# digits; with the characters of a number around them.
_OTHER_DIGITS = "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३४५६७८९০১২৩০১２３４５６７８９０¹²³⁴½⅓Ⅻ𝟎𝟏𝟗.e-+0123456789"
_EXPONENT_TEXTS = st.sampled_from(["", "e5", "E-3", "e+400", "e-400", "e1000000", "e99999999"])
# Numbers as text: odd forms, non-finite, overflowing, and digits of other scripts ('²',
# Arabic-Indic, fullwidth...), which int()/float()/Decimal() read or trip on.
NUMBER_TEXTS = (
    st.sampled_from(_ODD_NUMBERS)
    | INTS.map(str)
    | FLOATS.map(repr)
    | st.builds(
        lambda whole, frac, exp: f"{whole}.{frac}{exp}",
        st.integers(-(10**20), 10**20),
        st.integers(0, 10**20),
        _EXPONENT_TEXTS,
    )
    | st.text(st.sampled_from(_OTHER_DIGITS), max_size=8)
)
TEXTS = st.text(max_size=16) | NUMBER_TEXTS
SCALARS = st.none() | st.booleans() | INTS | FLOATS | TEXTS


def nested(depth: int, leaf: Any = 1, key: str | None = None) -> Any:
    """`leaf` inside `depth` arrays (or objects under `key`), built without recursion."""
    out = leaf
    for _ in range(depth):
        out = [out] if key is None else {key: out}
    return out


# Nesting as deep as a bounded decoder lets through, for readers of decoded values.
DEEP_VALUES = st.builds(
    nested, st.integers(MAX_DEPTH - 8, MAX_DEPTH - 1), SCALARS, st.none() | st.just("a")
)


def json_values(keys: Sequence[str] = ()) -> st.SearchStrategy[Any]:
    """Any JSON-like value; objects use `keys` (a payload's own field names) half the time,
    so that wrong types land in fields a reader looks at. Small: drawing is most of what a
    fuzz case costs."""
    key = st.sampled_from(list(keys)) | st.text(max_size=4) if keys else st.text(max_size=4)
    return (
        st.recursive(
            SCALARS,
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(key, inner, max_size=3),
            max_leaves=5,
        )
        | DEEP_VALUES
    )


# --- payloads mutated field by field -----------------------------------------------------------


def keys_of(docs: Sequence[Any]) -> list[str]:
    """Every object key in `docs`, sorted (for `json_values`)."""
    out: set[str] = set()
    stack = list(docs)
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            out.update(v)
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return sorted(out)


def paths_of(doc: Any) -> list[Path]:
    """Every place in `doc` (not the root), parents before children."""
    out: list[Path] = []
    stack: list[tuple[Path, Any]] = [((), doc)]
    while stack:
        path, v = stack.pop()
        if path:
            out.append(path)
        items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
        stack.extend(((*path, k), x) for k, x in items)
    return sorted(out, key=len)


def replaced(doc: Any, path: Path, value: Any, delete: bool = False) -> Any:
    """`doc` with the value at `path` replaced (or its key deleted), copying only the
    containers on the way; `doc` itself when the path is gone (an earlier mutation)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, list) and isinstance(head, int) and -len(doc) <= head < len(doc):
        out: Any = list(doc)
    elif isinstance(doc, dict) and head in doc:
        out = dict(doc)
    else:
        return doc
    inner = doc[head]
    if not rest and delete:
        del out[head]
    else:
        out[head] = replaced(inner, rest, value, delete)
    return out


_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_SLIPS: list[Any] = [None, "", True, 5, -1, 0.5, [], {}, "NaN", "1e1000000", 10**400]


def slips(value: Any) -> list[Any]:
    """Type slips of a valid field value: the constants of issue 13 (`5`, `-1`, a 401-digit
    integer...), the value as text, in a list, in an object, as JSON text, and for a number
    (or a number written as text) the same digits in Arabic-Indic, or 400 digits longer."""
    out: list[Any] = [*_SLIPS, str(value)[:200], [value], {"value": value}]
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e100:
        out += [-value, value * 10**400 if isinstance(value, int) else value * 1e300]
        value = repr(value)
    if isinstance(value, str) and value and len(value) < 100 and value.strip("0123456789.-e"):
        return out  # text, not a number
    if isinstance(value, str) and value:
        out += [
            value.translate(_ARABIC_INDIC),
            value + "0" * 400,
            value + "e999",
            f" {value}\u00a0",
        ]
    return out


class Payloads(list[Any]):
    """Valid payloads of one kind, with every place in each (computed once), shown by name
    in hypothesis' reports rather than as kilobytes of JSON."""

    def __init__(self, name: str, docs: Sequence[Any]) -> None:
        super().__init__(docs)
        self.name = name
        self.places = [paths_of(d) for d in docs]
        self.keys = keys_of(docs)

    def __repr__(self) -> str:
        return f"<{len(self)} {self.name} payloads>"


@st.composite
def mutated(draw: st.DrawFn, docs: Payloads, values: st.SearchStrategy[Any]) -> Any:
    """One of `docs` with one or two fields replaced (by a value, a type slip of the
    field's own value, JSON text of a value) or deleted."""
    i = draw(st.integers(0, len(docs) - 1))
    doc, places = docs[i], docs.places[i]
    if not places:
        return draw(values)
    for _ in range(draw(st.integers(1, 2))):
        path = places[draw(st.integers(0, len(places) - 1))]
        how = draw(st.sampled_from(["value", "slip", "text", "delete"]))
        if how == "delete":
            doc = replaced(doc, path, None, delete=True)
            continue
        if how == "slip":
            old = _at(doc, path)
            value = draw(st.sampled_from(slips(old))) if old is not _GONE else draw(values)
        elif how == "text":
            value = json.dumps(draw(values))
        else:
            value = draw(values)
        doc = replaced(doc, path, value)
    return doc


_GONE = object()


def _at(doc: Any, path: Path) -> Any:
    for k in path:
        try:
            doc = doc[k]
        except (KeyError, IndexError, TypeError):
            return _GONE
    return doc


# What every field of a recorded payload is replaced by in `sweep` (besides its own slips).
NASTY: list[Any] = [
    10**400, "1e1000000", "NaN", "²", "١٢٣", "", None, True, 5, -1, [], {"a": -1}, "x",
    nested(MAX_DEPTH - 2, key="a"),
]  # fmt: skip


def sweep(doc: Any, trimmed: bool = True) -> Iterator[Any]:
    """`doc` with each of its places (in arrays, the first two items only when `trimmed`)
    in turn deleted, or replaced by each of `NASTY` and by each of its own `slips`: the
    systematic half of "wrong types in each known field", which random mutation reaches
    too seldom in the cases CI can afford."""
    for path in paths_of(doc):
        if trimmed and any(isinstance(k, int) and k >= 2 for k in path):
            continue
        yield replaced(doc, path, None, delete=True)
        for value in (*NASTY, *slips(_at(doc, path))):
            yield replaced(doc, path, value)


def payloads(name: str, docs: Sequence[Any]) -> st.SearchStrategy[Any]:
    """What a reader of `docs`-like payloads may be handed: those mutated, or anything."""
    known = Payloads(name, docs)
    values = json_values(known.keys)
    return mutated(known, values) | values


def batches(values: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    """One to three values per example: each example costs hypothesis about half a
    millisecond before a reader runs, so readers get more cases per second this way."""
    return st.lists(values, min_size=1, max_size=3)


# --- raw texts ------------------------------------------------------------------------------------


def _deep_text(depth: int, opener: str, closed: bool) -> str:
    close = {"[": "]", '{"a":': "}"}[opener]
    return opener * depth + ("1" + close * depth if closed else "")


DEEP_TEXTS = st.builds(
    _deep_text,
    st.sampled_from([MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 991, 5_000, 100_000]),
    st.sampled_from(["[", '{"a":']),
    st.booleans(),
)


def dumped(value: Any) -> str:
    """JSON text of `value`, NaN and Infinity literals included (not strict JSON)."""
    return json.dumps(value)


def texts_of(values: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """Texts a reader of JSON text may receive: JSON of `values`, cut short or not, deep
    brackets, plain text."""
    whole = values.map(dumped)
    cut = st.tuples(whole, st.floats(0, 1)).map(lambda t: t[0][: int(len(t[0]) * t[1])])
    return whole | cut | DEEP_TEXTS | st.text(max_size=40)


def as_bytes(texts: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    """The texts as UTF-8, or bytes that are not UTF-8 at all."""
    return texts.map(lambda t: t.encode("utf-8", "surrogatepass")) | st.binary(max_size=40)


def read(
    errors: type[BaseException] | tuple[type[BaseException], ...],
    fn: Callable[..., Any],
    *args: Any,
) -> Any:
    """`fn(*args)`, or None when it raised one of `errors`. Any other exception propagates
    and fails the property: the one assertion every fuzz property makes."""
    try:
        return fn(*args)
    except errors:
        return None
