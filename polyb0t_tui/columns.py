"""Fitting table columns to a width, and turning a row of cells into one styled line.

Every table in the console (the market table and the small panes) renders lines itself, so
one rule decides what fits: fixed columns keep their width, flexible ones share what is left,
and when even their minimum does not fit the least important columns go first. At 80 columns
that hides mid and spread in the market table instead of squeezing the question to nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    width: int  # fixed width, or the minimum of a flexible column
    right: bool = False  # right-aligned (numbers)
    flex: int = 0  # share of the spare width; 0: fixed
    drop: int = 0  # dropped first when space runs out (higher first); 0: always shown


@dataclass(frozen=True, slots=True)
class Layout:
    """Which columns are shown and how wide each is, for one total width."""

    width: int
    columns: tuple[Column, ...]
    widths: tuple[int, ...]

    def column_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)


def fit(columns: Sequence[Column], width: int, gap: int = 1) -> Layout:
    shown = list(columns)

    def need(cols: list[Column]) -> int:
        return sum(c.width for c in cols) + gap * max(len(cols) - 1, 0)

    while need(shown) > width:
        droppable = [c for c in shown if c.drop > 0]
        if not droppable:
            break
        shown.remove(max(droppable, key=lambda c: c.drop))
    spare = max(width - need(shown), 0)
    weights = sum(c.flex for c in shown)
    widths = []
    given = 0
    flex_seen = 0
    for c in shown:
        extra = 0
        if c.flex and weights:
            flex_seen += c.flex
            # cumulative rounding: the flexible columns use the spare width exactly
            extra = spare * flex_seen // weights - given
            given += extra
        widths.append(c.width + extra)
    return Layout(width, tuple(shown), tuple(widths))


def cell(text: str, width: int, right: bool) -> str:
    """`text` cut or padded to exactly `width` cells; cut text ends with an ellipsis."""
    n = cell_len(text)
    if n == width:
        return text
    if n < width:
        pad = " " * (width - n)
        return pad + text if right else text + pad
    if width <= 1:
        return set_cell_size(text, width)
    if right:  # numbers are never cut in the middle: show the tail
        return set_cell_size(text[-width:], width)
    return set_cell_size(text, width - 1) + ELLIPSIS


Cell = tuple[str, Style | None]


def line(
    cells: Sequence[Cell], layout: Layout, base: Style, index: dict[str, int], gap: int = 1
) -> Strip:
    """One table line: `cells` are given for every column key (in `index` order); only the
    layout's columns are drawn."""
    segments: list[Segment] = []
    space = Segment(" " * gap, base)
    for n, (col, w) in enumerate(zip(layout.columns, layout.widths, strict=True)):
        if n:
            segments.append(space)
        text, style = cells[index[col.key]]
        segments.append(Segment(cell(text, w, col.right), base + style if style else base))
    strip = Strip(segments)
    return strip.adjust_cell_length(layout.width, base)


def header(layout: Layout, base: Style, marks: dict[str, str] | None = None) -> Strip:
    """Column titles; `marks` adds a suffix (the sort arrow) to some of them."""
    marks = marks or {}
    segments: list[Segment] = []
    for n, (col, w) in enumerate(zip(layout.columns, layout.widths, strict=True)):
        if n:
            segments.append(Segment(" ", base))
        title = col.title + marks.get(col.key, "")
        segments.append(Segment(cell(title, w, col.right), base))
    return Strip(segments).adjust_cell_length(layout.width, base)


def overlay(strip: Strip, style: Style) -> Strip:
    """`style` laid over every segment (it wins over the segments' own colours)."""
    return Strip(list(Segment.apply_style(iter(strip), post_style=style)), strip.cell_length)
