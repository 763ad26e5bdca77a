"""A yes/no question in a modal box: `y` or Enter on the focused button answers yes,
`n` or Esc answers no.

Dangerous questions (kill switch, approve anyway) start with the focus on Cancel, so a
reflexive Enter does nothing harmful.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from polyb0t_tui.keymap import DIALOGS, textual_bindings


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = textual_bindings(DIALOGS)  # polyb0t_tui.keymap

    def __init__(
        self,
        title: str,
        message: str,
        *,
        confirm: str = "Confirm",
        cancel: str = "Cancel",
        danger: bool = False,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.confirm = confirm
        self.cancel = cancel
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="-danger" if self.danger else ""):
            yield Static(self.title_text, id="dialog-title")
            yield Static(self.message, id="dialog-message", markup=False)
            with Horizontal(id="dialog-buttons"):
                yield Button(
                    f"{self.confirm} (y)",
                    id="yes",
                    variant="error" if self.danger else "primary",
                    compact=True,
                )
                yield Button(f"{self.cancel} (n)", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no" if self.danger else "#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def action_switch(self) -> None:
        self.focus_next(Button)
