"""Trade intents waiting for a person, with a live countdown to expiry, and recent results.

`a` and `r` are bound here, not app-wide: they act on the selected intent, and Textual greys
them out in the footer (`check_action` returns None) while nothing is selected. The widget
only asks; the app runs the approval flow (confirmation, re-check, the command) so the same
flow serves the palette too. Closed intents stay listed `linger` seconds of engine time.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType

from engine.feed.view import IntentView
from polyb0t_tui import formatting as fmt
from polyb0t_tui.columns import Column
from polyb0t_tui.keymap import INTENT_QUEUE, textual_bindings
from polyb0t_tui.messages import ApproveRequested, RejectRequested
from polyb0t_tui.widgets.pane_table import PaneRow, PaneTable

OPEN_STATES = ("PENDING", "APPROVED", "SUBMITTED")
STATE_TEXT = {
    "APPROVED": ("approved", "ok"),
    "SUBMITTED": ("sent", "ok"),
    "EXECUTED_DRYRUN": ("executed", "ok"),
    "FILLED": ("filled", "ok"),
    "PARTIAL": ("partial", "warn"),
    "FAILED": ("failed", "down"),
    "REJECTED": ("rejected", "dim"),
    "EXPIRED": ("expired", "dim"),
}
URGENT_SECONDS = 60.0


class IntentQueue(PaneTable):
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("market", "Market", 14, flex=2),
        Column("side", "Side", 7),
        Column("price", "Price", 5, right=True),
        Column("size", "Size", 7, right=True),
        Column("cost", "Cost", 8, right=True),
        Column("edge", "Edge", 5, right=True),
        Column("expires", "Expires", 8, right=True),
        Column("note", "Note", 10, flex=1, drop=1),
    )
    EMPTY = "no intents waiting (live mode proposes them)"
    BINDINGS: ClassVar[list[BindingType]] = textual_bindings(INTENT_QUEUE)  # polyb0t_tui.keymap

    def __init__(
        self, *, linger: float = 10.0, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.linger = linger
        self.intents: tuple[IntentView, ...] = ()
        self._by_id: dict[str, IntentView] = {}
        self._shown: tuple[tuple[IntentView, ...], float] = ((), float("nan"))
        self._had_selection = False

    def show(self, intents: tuple[IntentView, ...], now: float) -> None:
        """Redraw when the intents or the second shown by the countdown changed."""
        tick = float(int(now)) if now == now else now
        if (intents, tick) == self._shown:
            return
        self._shown = (intents, tick)
        visible = [
            i for i in intents if i.state in OPEN_STATES or now - i.updated_ts <= self.linger
        ]
        visible.sort(key=_order)
        before = self.selected
        by_id = {i.intent_id: i for i in visible}
        after = by_id.get(before.intent_id) if before is not None else None
        # once the selected intent is answered, stay in place: the next one moves under the
        # cursor, which is what a person working down the queue wants
        answered = (
            before is not None
            and before.state == "PENDING"
            and (after is None or after.state != "PENDING")
        )
        self.intents = tuple(visible)
        self._by_id = by_id
        self.set_rows([_row(i, now) for i in visible], follow=not answered)

    @property
    def selected(self) -> IntentView | None:
        key = self.selected_key
        return None if key is None else self._by_id.get(key)

    def cursor_moved(self) -> None:
        # a + r are greyed out with nothing selected; the footer only needs telling when
        # that flips (refreshing bindings recomposes the footer: not on every countdown tick)
        has = self.selected is not None
        if has != self._had_selection:
            self._had_selection = has
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("approve", "reject"):
            return True if self.selected is not None else None
        return True

    def action_approve(self) -> None:
        intent = self.selected
        if intent is not None:
            self.post_message(ApproveRequested(intent))

    def action_reject(self) -> None:
        intent = self.selected
        if intent is not None:
            self.post_message(RejectRequested(intent))


def _order(i: IntentView) -> tuple[int, float]:
    """Pending first, soonest expiry on top; then in-flight; then results, newest first."""
    if i.state == "PENDING":
        return (0, i.expires_ts)
    if i.state in OPEN_STATES:
        return (1, -i.updated_ts)
    return (2, -i.updated_ts)


def _row(i: IntentView, now: float) -> PaneRow:
    if i.state == "PENDING":
        left = i.expires_ts - now
        expires = (fmt.countdown(left), "warn" if left < URGENT_SECONDS else None)
    else:
        expires = STATE_TEXT.get(i.state, (i.state.lower(), None))
    return PaneRow(
        key=i.intent_id,
        cells=(
            (i.question, None),
            (fmt.side_label(i.side, i.outcome), None),
            (fmt.cents(i.price), None),
            (f"{i.size:,.2f}", None),
            (fmt.money(i.cost), None),
            (fmt.signed_cents(i.edge), None),
            expires,
            (i.reason or "", "dim"),
        ),
        dim=i.state in ("REJECTED", "EXPIRED"),
    )
