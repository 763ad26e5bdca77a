"""A small keyboard-driven table for the side panes (signals, intents, positions, experts).

Same line rendering as the market table, so a flexible text column takes whatever width the
pane has at 80 or 160 columns and less important columns drop out when it is narrow. The
rows are few (at most a few hundred), so a replace is a plain list swap; the cursor follows
its row by key when rows move, which keeps an intent selected while the queue reorders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import BindingType
from textual.geometry import Size
from textual.strip import Strip

from polyb0t_tui.columns import Cell, Column, Layout, fit, header, line, overlay
from polyb0t_tui.keymap import ANY_PANE, textual_bindings
from polyb0t_tui.widgets.cursor_view import CursorView

STYLE_NAMES = ("up", "down", "warn", "ok", "dim", "strong", "cursor")


@dataclass(frozen=True, slots=True)
class PaneRow:
    key: str
    cells: tuple[tuple[str, str | None], ...]  # (text, style name) per column
    dim: bool = False


class PaneTable(CursorView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "pane-table--header",
        *(f"pane-table--{name}" for name in STYLE_NAMES),
    }
    BINDINGS: ClassVar[list[BindingType]] = textual_bindings(ANY_PANE)  # polyb0t_tui.keymap
    COLUMNS: ClassVar[tuple[Column, ...]] = ()
    HIDDEN: ClassVar[frozenset[str]] = frozenset()  # columns a subclass never shows
    EMPTY: ClassVar[str] = "nothing yet"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rows: list[PaneRow] = []
        self.cursor = 0
        self._layout: Layout | None = None
        self._index = {c.key: n for n, c in enumerate(self.COLUMNS)}

    # --- data ------------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[PaneRow], follow: bool = True) -> None:
        """Replace the rows; the cursor follows its row by key unless `follow` is False
        (then it keeps its position, landing on whatever row took that place)."""
        rows = list(rows)
        if rows == self.rows:
            return
        key = self.selected_key
        self.rows = rows
        keys = [r.key for r in rows]
        if follow and key is not None and key in keys:
            self.cursor = keys.index(key)
        else:
            self.cursor = min(self.cursor, max(len(rows) - 1, 0))
        self.virtual_size = Size(self.scrollable_content_region.width, len(rows) + 1)
        self._scroll_to_cursor()
        self.refresh()
        self.cursor_moved()

    @property
    def selected_key(self) -> str | None:
        if 0 <= self.cursor < len(self.rows):
            return self.rows[self.cursor].key
        return None

    def cursor_moved(self) -> None:
        """Hook: the row under the cursor may have changed."""

    # --- drawing ---------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._layout = None
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.rows) + 1)

    def _fit(self) -> Layout:
        width = self.scrollable_content_region.width
        if self._layout is None or self._layout.width != width:
            self._layout = fit([c for c in self.COLUMNS if c.key not in self.HIDDEN], width)
        return self._layout

    def render_line(self, y: int) -> Strip:
        layout = self._fit()
        base = self.rich_style
        if y == 0:
            return header(layout, self.get_component_rich_style("pane-table--header"))
        if not self.rows:
            if y == 1:
                text = Segment(" " + self.EMPTY, base + self._style("dim"))
                return Strip([text]).adjust_cell_length(layout.width, base)
            return Strip.blank(layout.width, base)
        p = round(self.scroll_offset.y) + y - 1
        if not 0 <= p < len(self.rows):
            return Strip.blank(layout.width, base)
        row = self.rows[p]
        cells: list[Cell] = [
            (text, self._style(name) if name else None) for text, name in row.cells
        ]
        strip = line(cells, layout, base, self._index)
        if row.dim:
            strip = overlay(strip, self._style("dim"))
        if p == self.cursor and self.has_focus:
            strip = overlay(strip, self._style("cursor"))
        return strip

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"pane-table--{name}", partial=True)

    # --- cursor ----------------------------------------------------------------------------

    def move_cursor(self, position: int) -> None:
        if not self.rows:
            return
        new = min(max(position, 0), len(self.rows) - 1)
        if new == self.cursor:
            return
        old, self.cursor = self.cursor, new
        self._repaint_cursor(old)
        self.cursor_moved()

    def action_cursor_to(self, position: int) -> None:
        self.move_cursor(position if position >= 0 else len(self.rows) - 1)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
