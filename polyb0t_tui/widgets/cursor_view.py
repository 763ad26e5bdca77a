"""The cursor both tables share: one selected row under a one-line header, kept in view.

Why a base class: the market table and the side panes scroll, click and step the cursor the
same way; only how many rows they have and what moving the cursor updates differ, which
`move_cursor` (each table's own) decides.
"""

from __future__ import annotations

from textual import events
from textual.scroll_view import ScrollView


class CursorView(ScrollView):
    cursor: int = 0  # row position (0 is the first row under the header)

    def move_cursor(self, position: int) -> None:
        raise NotImplementedError

    def _body_rows(self) -> int:
        """Rows visible under the header (at least one)."""
        return max(self.scrollable_content_region.height - 1, 1)

    def _repaint_cursor(self, old: int) -> None:
        """Redraw the rows the cursor left and reached (line 0 is the header), keep it seen."""
        self.refresh_lines(old + 1)
        self.refresh_lines(self.cursor + 1)
        self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        rows = self._body_rows()
        top = round(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        self.move_cursor(self.cursor + step)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.move_cursor(round(self.scroll_offset.y) + event.y - 1)
