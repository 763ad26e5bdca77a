"""The order book around the touch: asks above, bids below, sizes as bars.

As many levels as fit the height are shown on each side, best prices next to the spread line
in the middle, the way a trader reads a ladder.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from polyb0t_tui import formatting as fmt

Levels = tuple[tuple[float, float], ...]


class DepthLadder(Widget):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.bids: Levels = ()
        self.asks: Levels = ()

    def show(self, bids: Levels, asks: Levels) -> None:
        if (bids, asks) != (self.bids, self.asks):
            self.bids, self.asks = bids, asks
            self.refresh()

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        per_side = max((height - 2) // 2, 1)
        asks = list(self.asks[:per_side])
        bids = list(self.bids[:per_side])
        if not asks and not bids:
            return Text("empty book", style="dim")
        biggest = max(s for _, s in asks + bids)
        bar_w = max(width - 16, 1)
        out = Text(no_wrap=True, overflow="crop")
        out.append(f"{'price':>5} {'shares':>9}\n", style="bold")
        for _ in range(per_side - len(asks)):
            out.append("\n")
        for p, s in reversed(asks):  # worst ask on top, best ask next to the spread
            out.append(_level(p, s, biggest, bar_w), style="red")
        spread = asks[0][0] - bids[0][0] if asks and bids else float("nan")
        out.append(f"{'':>5} spread {fmt.cents(spread, 3).strip()}\n", style="dim")
        for p, s in bids:
            out.append(_level(p, s, biggest, bar_w), style="green")
        return out


def _level(price: float, size: float, biggest: float, bar_w: int) -> str:
    bar = "█" * max(round(size / biggest * bar_w), 1) if biggest > 0 else ""
    return f"{fmt.cents(price)} {size:>9,.0f} {bar}\n"
