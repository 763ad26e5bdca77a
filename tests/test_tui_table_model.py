"""The market table's order: updates land in place, the order is rebuilt only when asked,
and a rebuild keeps the person's sort and filter."""

from __future__ import annotations

import math
from dataclasses import replace

from engine.feed.view import MarketRow
from polyb0t_tui.table_model import MarketModel


def row(i: int, volume: float, edge: float = 0.0, question: str = "") -> MarketRow:
    return MarketRow(
        row=i,
        market_id=f"m{i}",
        question=question or f"Will thing {i} happen?",
        category="sports" if i % 2 else "politics",
        bid=0.4,
        ask=0.42,
        mid=0.41,
        spread=0.02,
        change_24h=0.0,
        volume=volume,
        end_ts=1_000.0 + i,
        p_model=0.5,
        edge=edge,
        active=True,
        trusted=True,
    )


def test_updates_do_not_reorder_until_the_rebuild() -> None:
    m = MarketModel(sort="volume")
    rows = [row(i, volume=float(i)) for i in range(5)]
    m.apply(rows, 5, full=True)
    m.rebuild()
    assert m.order == [4, 3, 2, 1, 0]  # biggest volume first
    changed = m.apply([replace(rows[0], volume=100.0)], 5, full=False)
    assert changed == [0]
    assert m.order == [4, 3, 2, 1, 0] and m.stale  # in place until the slow cadence
    assert m.at(4) is not None and m.at(4).volume == 100.0  # type: ignore[union-attr]
    assert m.rebuild() and m.order[0] == 0 and not m.stale


def test_a_change_outside_the_sort_column_leaves_the_order_valid() -> None:
    m = MarketModel(sort="volume")
    rows = [row(i, volume=float(i)) for i in range(3)]
    m.apply(rows, 3, full=True)
    m.rebuild()
    m.apply([replace(rows[1], bid=0.3)], 3, full=False)
    assert not m.stale


def test_missing_values_sort_last_in_both_directions() -> None:
    m = MarketModel(sort="edge")
    m.apply([row(0, 1, edge=math.nan), row(1, 1, edge=0.02), row(2, 1, edge=0.05)], 3, True)
    m.rebuild()
    assert m.order == [2, 1, 0]
    m.reverse()
    m.rebuild()
    assert m.order == [1, 2, 0]


def test_filter_matches_question_and_category_and_new_rows_join_it() -> None:
    m = MarketModel()
    m.apply([row(0, 1, question="Will the Fed cut?"), row(1, 2), row(2, 3)], 3, True)
    m.set_filter("FED")
    m.rebuild()
    assert m.order == [0]
    m.set_filter("sports")
    m.rebuild()
    assert m.order == [1]
    m.apply([row(3, 9)], 4, full=False)  # a new listing, in category sports
    assert m.stale
    m.rebuild()
    assert m.order == [3, 1]
    m.set_filter("")
    m.rebuild()
    assert len(m) == 4


def test_text_sort_and_cycling() -> None:
    m = MarketModel(sort="question")
    m.apply([row(0, 1, question="b"), row(1, 1, question="A"), row(2, 1, question="c")], 3, True)
    m.rebuild()
    assert m.order == [1, 0, 2]  # case-insensitive, A to Z
    m.cycle_sort()
    assert m.sort.key == "category"
    m.cycle_sort()
    assert m.sort.key == "volume" and m.descending  # wraps around
