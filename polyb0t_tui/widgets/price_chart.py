"""Mid-price history as a filled block chart with a price axis, drawn with text only.

Eighth-block characters give eight steps per cell, enough to read a move of a cent on a
ten-line chart, and the result looks the same in 16 colours and over any SSH client (no
braille font needed). The data are engine times, so the axis is deterministic in tests.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from polyb0t_tui import formatting as fmt

BLOCKS = " ▁▂▃▄▅▆▇█"
AXIS = 6  # "53.4 ┤"


class PriceChart(Widget):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.history: tuple[tuple[float, float], ...] = ()

    def show(self, history: tuple[tuple[float, float], ...]) -> None:
        if history != self.history:
            self.history = history
            self.refresh()

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        plot_w, plot_h = width - AXIS, height - 1
        points = [(t, p) for t, p in self.history if p == p]
        if plot_w < 4 or plot_h < 2 or len(points) < 2:
            return Text("not enough price history yet", style="dim")
        values = resample([p for _, p in points], plot_w)
        lo, hi = min(values), max(values)
        if hi - lo < 0.01:  # at least a cent of range, centred, so flat lines sit mid-chart
            mid = (hi + lo) / 2
            lo, hi = mid - 0.005, mid + 0.005
        steps = plot_h * 8
        heights = [round((v - lo) / (hi - lo) * (steps - 1)) + 1 for v in values]
        out = Text(no_wrap=True, overflow="crop")
        for r in range(plot_h):
            level = plot_h - r - 1  # cells below this row
            label = fmt.cents(hi, 4) if r == 0 else (fmt.cents(lo, 4) if r == plot_h - 1 else "")
            out.append(f"{label:>4} ┤", style="dim")
            row = "".join(BLOCKS[min(max(h - level * 8, 0), 8)] for h in heights)
            out.append(row + "\n", style="cyan")
        start, end = fmt.utc(points[0][0]), fmt.utc(points[-1][0])
        axis = f"{start[11:]}".ljust(plot_w - 5) + end[11:]
        out.append(" " * AXIS + axis[:plot_w], style="dim")
        return out


def resample(values: list[float], width: int) -> list[float]:
    """`width` values: the last value of each bucket, or each value stretched to fill."""
    n = len(values)
    if n >= width:
        return [values[(c + 1) * n // width - 1] for c in range(width)]
    return [values[c * n // width] for c in range(width)]
