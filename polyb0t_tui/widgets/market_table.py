"""The market table: thousands of live rows drawn line by line (Textual's Line API).

DataTable drops its render caches on every cell update and redraws every visible cell, which
costs most of a core at 10 Hz. Here each row's line is cached by row id; an update evicts only
the rows it changed and repaints only the changed rows that are on screen. The header is
line 0 of the widget and never scrolls. The order (sort and filter) is rebuilt at most once a
`resort_seconds` while values move, and at once when the person changes sort or filter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import ClassVar

from rich.style import Style
from textual import events
from textual.binding import BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.strip import Strip
from textual.timer import Timer

from engine.feed.view import MarketRow
from polyb0t_tui import formatting as fmt
from polyb0t_tui.columns import Cell, Column, Layout, fit, header, line, overlay
from polyb0t_tui.keymap import MARKET_TABLE, textual_bindings
from polyb0t_tui.messages import OpenMarket
from polyb0t_tui.table_model import SORT_BY_KEY, MarketModel
from polyb0t_tui.widgets.cursor_view import CursorView

COLUMNS: tuple[Column, ...] = (
    Column("question", "Market", 22, flex=1),  # columns go before the question gets narrower
    Column("category", "Category", 8, drop=3),
    Column("bid", "Bid", 5, right=True),
    Column("ask", "Ask", 5, right=True),
    Column("mid", "Mid", 5, right=True, drop=5),
    Column("spread", "Sprd", 4, right=True, drop=4),
    Column("change_24h", "24h", 5, right=True, drop=1),
    Column("volume", "Vol", 6, right=True),
    Column("end_ts", "Ends", 6, right=True, drop=2),
    Column("p_model", "P", 5, right=True),
    Column("edge", "Edge", 5, right=True),
)
INDEX = {c.key: n for n, c in enumerate(COLUMNS)}


class MarketTable(CursorView, can_focus=True):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "market-table--header",
        "market-table--cursor",
        "market-table--up",
        "market-table--down",
        "market-table--edge",
        "market-table--dim",
    }
    BINDINGS: ClassVar[list[BindingType]] = textual_bindings(MARKET_TABLE)  # polyb0t_tui.keymap

    def __init__(
        self,
        *,
        edge_threshold: float = 0.05,
        resort_seconds: float = 1.0,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.model = MarketModel()
        self.cursor = 0
        self.edge_threshold = edge_threshold
        self.resort_seconds = resort_seconds
        self._selected: int | None = None  # row id under the cursor
        self._cache: LRUCache[int, tuple[tuple[object, ...], Strip]] = LRUCache(2048)
        self._layout: Layout | None = None
        self._now = math.nan
        self._resort_timer: Timer | None = None

    # --- data in -------------------------------------------------------------------------

    def apply_rows(self, rows: Iterable[MarketRow], n_rows: int, full: bool) -> None:
        changed = self.model.apply(rows, n_rows, full)
        for i in changed:
            self._cache.discard(i)
        if full or (not self.model.order and self.model.stale):
            self._rebuild()
            return
        self._refresh_rows(changed)
        if self.model.stale and self._resort_timer is None:
            self._resort_timer = self.set_timer(self.resort_seconds, self._resort_due)

    def set_now(self, ts: float) -> None:
        """Engine time: time to resolution is drawn from it. Visible lines are redrawn
        only when a minute boundary passes (the finest unit the column shows)."""
        before, self._now = self._now, ts
        if before != before or int(before // 60) != int(ts // 60):
            self.refresh()

    def _resort_due(self) -> None:
        self._resort_timer = None
        if self.model.stale:
            self._rebuild()

    def _refresh_rows(self, row_ids: list[int]) -> None:
        if not row_ids:
            return
        top = round(self.scroll_offset.y)
        bottom = top + max(self.scrollable_content_region.height - 1, 0)
        positions = self.model.positions(row_ids)
        for p in positions[(positions >= top) & (positions < bottom)].tolist():
            self.refresh_lines(p + 1)

    def _rebuild(self) -> None:
        """Re-sort and re-filter; the selected market keeps its place on the screen."""
        offset = self.cursor - round(self.scroll_offset.y)
        self.model.rebuild()
        n = len(self.model)
        if self._selected is not None and self.model.pos.size > self._selected:
            p = int(self.model.pos[self._selected])
            self.cursor = p if p >= 0 else min(self.cursor, max(n - 1, 0))
        else:
            self.cursor = min(self.cursor, max(n - 1, 0))
        self._select(self.cursor)
        self.virtual_size = Size(self.scrollable_content_region.width, n + 1)
        self.scroll_to(y=max(self.cursor - offset, 0), animate=False, immediate=True)
        self._clamp_scroll()
        self.refresh()

    # --- drawing -------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def on_resize(self, event: events.Resize) -> None:
        self._layout = None
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.model) + 1)
        self._clamp_scroll()

    def _fit(self) -> Layout:
        width = self.scrollable_content_region.width
        if self._layout is None or self._layout.width != width:
            self._layout = fit(COLUMNS, width)
            self._cache.clear()
        return self._layout

    def render_line(self, y: int) -> Strip:
        layout = self._fit()
        base = self.rich_style
        if y == 0:
            return self._header(layout)
        p = round(self.scroll_offset.y) + y - 1
        row = self.model.at(p)
        if row is None:
            return Strip.blank(layout.width, base)
        strip = self._row(row, layout, base)
        if p == self.cursor:
            strip = overlay(strip, self._partial("market-table--cursor"))
        return strip

    def _header(self, layout: Layout) -> Strip:
        style = self.get_component_rich_style("market-table--header")
        arrow = " ▼" if self.model.descending else " ▲"
        key = self.model.sort.key
        if key in layout.column_keys():
            marks = {key: arrow}
        else:  # the sorted column is hidden at this width: say so after the first title
            marks = {"question": f" ({SORT_BY_KEY[key].title}{arrow})"}
        if self.model.filter:
            marks["question"] = marks.get("question", "") + f" /{self.model.filter}"
        return header(layout, style, marks)

    def _row(self, row: MarketRow, layout: Layout, base: Style) -> Strip:
        left = row.end_ts - self._now
        sig = (row, fmt.time_left_bucket(left), layout.width)
        hit = self._cache.get(row.row)
        if hit is not None and hit[0] == sig:
            return hit[1]
        strip = line(self._cells(row, left), layout, base, INDEX)
        if not (row.active and row.trusted):
            strip = overlay(strip, self._partial("market-table--dim"))
        self._cache.set(row.row, (sig, strip))
        return strip

    def _cells(self, row: MarketRow, left: float) -> list[Cell]:
        up = self._partial("market-table--up")
        down = self._partial("market-table--down")
        strong = self._partial("market-table--edge")
        change = row.change_24h
        change_style = (
            None if abs(change) < 0.0005 or change != change else (up if change > 0 else down)
        )
        edge_style = strong if row.edge >= self.edge_threshold else None
        return [
            (row.question, None),
            (row.category, None),
            (fmt.cents(row.bid), None),
            (fmt.cents(row.ask), None),
            (fmt.cents(row.mid), None),
            (fmt.cents(row.spread, 4), None),
            (fmt.signed_cents(change), change_style),
            (fmt.compact(row.volume), None),
            (fmt.time_left(left), None),
            (fmt.cents(row.p_model), None),
            (fmt.signed_cents(row.edge), edge_style),
        ]

    def _partial(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    # --- cursor and keys -----------------------------------------------------------------

    @property
    def selected(self) -> MarketRow | None:
        return self.model.at(self.cursor)

    def visible_rows(self) -> list[MarketRow]:
        """The rows on screen now, top to bottom (tests and the bench read this)."""
        top = round(self.scroll_offset.y)
        height = max(self.scrollable_content_region.height - 1, 0)
        return [r for p in range(top, top + height) if (r := self.model.at(p)) is not None]

    def _select(self, position: int) -> None:
        row = self.model.at(position)
        self._selected = row.row if row is not None else None

    def move_cursor(self, position: int) -> None:
        n = len(self.model)
        new = min(max(position, 0), max(n - 1, 0))
        old, self.cursor = self.cursor, new
        self._select(new)
        self._repaint_cursor(old)

    def _clamp_scroll(self) -> None:
        limit = max(len(self.model) - self._body_rows(), 0)
        if self.scroll_offset.y > limit:
            self.scroll_to(y=limit, animate=False, immediate=True)

    def action_page(self, direction: int) -> None:
        rows = max(self.scrollable_content_region.height - 2, 1)
        self.move_cursor(self.cursor + direction * rows)

    def action_top(self) -> None:
        self.move_cursor(0)

    def action_bottom(self) -> None:
        self.move_cursor(len(self.model) - 1)

    def action_open(self) -> None:
        row = self.selected
        if row is not None:
            self.post_message(OpenMarket(row.market_id, row.question))

    def action_cycle_sort(self) -> None:
        self.model.cycle_sort()
        self._rebuild()

    def action_reverse_sort(self) -> None:
        self.model.reverse()
        self._rebuild()

    def sort_by(self, key: str, descending: bool | None = None) -> None:
        self.model.set_sort(key, descending)
        self._rebuild()

    def set_filter(self, text: str) -> None:
        self.model.set_filter(text)
        self._rebuild()
