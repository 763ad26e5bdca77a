"""The view codec: every view value survives JSON exactly, NaN and -0.0 included."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.feed import view
from engine.feed.codec import CodecError, decode, dumps, encode, loads
from tests.control_helpers import canon

VIEW_TYPES = [
    view.MarketRow,
    view.StatusView,
    view.SignalView,
    view.IntentView,
    view.PositionView,
    view.PortfolioView,
    view.ExpertView,
    view.LogLine,
    view.MarketDetail,
    view.ViewDelta,
    view.CommandResult,
]

# Untyped command data: what run_command may put there, NaN and tuples included.
untyped = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text().filter(lambda k: not k.startswith("$")), inner, max_size=3)
    ),
    max_leaves=8,
)


def values_of(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Any value of a view type; hypothesis infers all but the untyped command data."""
    if cls is view.CommandResult:
        keys = st.text().filter(lambda k: not k.startswith("$"))
        return st.builds(cls, st.booleans(), st.text(), st.dictionaries(keys, untyped))
    return st.from_type(cls)


def strict_json(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("cls", VIEW_TYPES, ids=lambda c: c.__name__)
def test_every_view_type_round_trips_exactly(cls: type[Any]) -> None:
    @settings(max_examples=60, deadline=None)
    @given(values_of(cls))
    def check(value: Any) -> None:
        text = dumps(value)
        strict_json(text)
        back = loads(cls, text)
        assert type(back) is cls
        assert canon(back) == canon(value)
        assert dumps(back) == text

    check()


def test_non_finite_floats_and_negative_zero_are_kept() -> None:
    row = view.MarketRow(
        0, "m", "q", "c", math.nan, math.inf, -math.inf, -0.0, 0.0, 1e308, 5e-324, 0.1, 0.2,
        True, False,
    )  # fmt: skip
    text = dumps(row)
    assert '"bid":"NaN"' in text and '"ask":"Infinity"' in text and '"mid":"-Infinity"' in text
    back = loads(view.MarketRow, text)
    assert math.isnan(back.bid) and back.ask == math.inf and back.mid == -math.inf
    assert math.copysign(1.0, back.spread) == -1.0
    assert back.end_ts == 5e-324


def test_strings_that_utf8_cannot_carry_survive() -> None:
    line = view.LogLine(1, 0.0, "INFO", "lone surrogate \ud800, emoji \U0001f600, nul \x00")
    text = dumps(line)
    assert text.isascii()
    assert loads(view.LogLine, text) == line


def test_untyped_command_data_keeps_nan_and_tuples() -> None:
    result = view.CommandResult(False, "edge gone", {"edge": math.nan, "pair": (1, 2.5)})
    back = loads(view.CommandResult, dumps(result))
    assert math.isnan(back.data["edge"]) and back.data["pair"] == (1, 2.5)
    with pytest.raises(CodecError, match="reserved"):
        dumps(view.CommandResult(True, "x", {"$float": 1}))


def test_a_delta_with_missing_fields_or_wrong_types_names_the_place() -> None:
    row = view.MarketRow(3, "m", "q", "c", 0.4, 0.5, 0.45, 0.1, 0.0, 1.0, 2.0, 0.5, 0.0, True, True)
    delta = view.ViewDelta(1, 4, (row,), None, (), (), None, (), ())
    data = encode(delta)
    data["rows"][0]["bid"] = "0.4"
    with pytest.raises(CodecError, match=r"rows\[0\]\.bid: expected a number"):
        decode(view.ViewDelta, data)
    data["rows"][0]["bid"] = True
    with pytest.raises(CodecError, match=r"rows\[0\]\.bid"):
        decode(view.ViewDelta, data)
    del data["rows"][0]["question"]
    with pytest.raises(CodecError, match="missing the field 'question'"):
        decode(view.ViewDelta, data)
    with pytest.raises(CodecError, match="not JSON"):
        loads(view.ViewDelta, "{nope")
    with pytest.raises(CodecError, match="expected a ViewDelta object"):
        loads(view.ViewDelta, "[]")


def test_a_field_added_by_a_newer_daemon_is_ignored_and_defaults_apply() -> None:
    data = encode(view.CommandResult(True, "ok"))
    data["new_field"] = 1
    del data["data"]
    assert decode(view.CommandResult, data) == view.CommandResult(True, "ok")
