"""Every key binding, where it works, and the id to remap it with in `[ui.keys]`.

Built from the binding classes themselves with the user's keymap applied, so the list can
never drift from what the keys really do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from polyb0t_tui.columns import Column
from polyb0t_tui.keymap import HELP, textual_bindings
from polyb0t_tui.widgets.pane_table import PaneRow, PaneTable


@dataclass(frozen=True, slots=True)
class HelpEntry:
    keys: str
    description: str
    where: str
    binding_id: str
    note: str = ""


class HelpTable(PaneTable):
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("keys", "Key", 11),
        Column("description", "Action", 18, flex=1),
        Column("where", "Where", 14, drop=2),
        Column("id", "Id (remap)", 16, drop=1),
    )
    EMPTY = "no bindings"


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = textual_bindings(HELP)  # polyb0t_tui.keymap

    def __init__(self, entries: Sequence[HelpEntry]) -> None:
        super().__init__()
        self.entries = list(entries)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(
                'Keys  (Esc closes; remap in config: [ui.keys] approve = "y")',
                id="help-title",
                markup=False,
            )
            yield HelpTable(id="help-table")

    def on_mount(self) -> None:
        table = self.query_one(HelpTable)
        table.set_rows(
            [
                PaneRow(
                    key=f"{e.where}:{e.binding_id}",
                    cells=(
                        (e.keys, "strong"),
                        (e.description + (f" ({e.note})" if e.note else ""), None),
                        (e.where, "dim"),
                        (e.binding_id, "dim"),
                    ),
                    dim=bool(e.note),
                )
                for e in self.entries
            ]
        )
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)


def entries_for(
    groups: Sequence[tuple[str, Sequence[BindingType]]],
    keymap: dict[str, str],
    display: Callable[[str], str],
    notes: dict[str, str] | None = None,
) -> list[HelpEntry]:
    """Flatten binding groups into help rows, with keys as the keymap has them."""
    notes = notes or {}
    out: list[HelpEntry] = []
    for where, bindings in groups:
        for b in Binding.make_bindings(bindings):
            if b.id is None or b.system:
                continue
            if any(e.binding_id == b.id and e.where == where for e in out):
                # a binding listing several keys expands to one Binding per key
                continue
            keys = keymap.get(b.id, _keys_of(bindings, b.id))
            shown = ", ".join(display(k.strip()) for k in keys.split(","))
            what = b.tooltip or b.description or b.action
            out.append(HelpEntry(shown, what, where, b.id, notes.get(b.id, "")))
    return out


def _keys_of(bindings: Sequence[BindingType], binding_id: str) -> str:
    for b in bindings:
        if isinstance(b, Binding) and b.id == binding_id:
            return b.key
    return ""
