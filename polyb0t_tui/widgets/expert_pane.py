"""Each predictor with its state, weight and how its Brier score compares to the market's.

Until the ML experts land this is the baseline alone; a Brier above the market's means the
model is worse than just reading the price, which is the one comparison that matters.
"""

from __future__ import annotations

from typing import ClassVar

from engine.feed.view import ExpertView
from polyb0t_tui import formatting as fmt
from polyb0t_tui.columns import Column
from polyb0t_tui.widgets.pane_table import PaneRow, PaneTable

STATE_STYLE = {"ACTIVE": "ok", "PROBATION": "warn", "SUSPENDED": "down", "DEPRECATED": "dim"}


class ExpertPane(PaneTable):
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("name", "Expert", 10, flex=1),
        Column("state", "State", 10),
        Column("weight", "Weight", 6, right=True),
        Column("brier", "Brier", 6, right=True),
        Column("brier_market", "Market", 6, right=True),
        Column("resolved", "N", 5, right=True, drop=2),
        Column("last_trained", "Trained", 16, drop=1),
    )
    EMPTY = "no experts reported"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._experts: tuple[ExpertView, ...] = ()

    @property
    def has_trained(self) -> bool:
        """Retraining makes sense once some expert has been trained at all."""
        return any(e.last_trained is not None for e in self._experts)

    def show(self, experts: tuple[ExpertView, ...]) -> None:
        if experts == self._experts:
            return
        self._experts = experts
        self.set_rows([_row(e) for e in experts])


def _brier(v: float | None) -> str:
    return "-" if v is None else f"{v:.4f}"


def _row(e: ExpertView) -> PaneRow:
    worse = e.brier is not None and e.brier_market is not None and e.brier > e.brier_market
    better = e.brier is not None and e.brier_market is not None and e.brier < e.brier_market
    return PaneRow(
        key=e.name,
        cells=(
            (e.name, None),
            (e.state, STATE_STYLE.get(e.state)),
            (f"{e.weight:.2f}", None),
            (_brier(e.brier), "down" if worse else ("up" if better else None)),
            (_brier(e.brier_market), None),
            (str(e.resolved), None),
            ("never" if e.last_trained is None else fmt.utc(e.last_trained), "dim"),
        ),
    )
