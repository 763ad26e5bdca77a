"""The main screen: status line, the market table, and the panes around it.

Layout adapts by CSS breakpoints alone, so no widget is ever re-created on resize: below
140x40 the panes share one slot under the table and a one-line tab strip (keys 1-5) picks
which one shows; from 140x40 up all five are laid out in a grid beside and below the table.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input

from engine.feed.view import ViewDelta
from polyb0t_tui.keymap import DASHBOARD, textual_bindings
from polyb0t_tui.widgets.expert_pane import ExpertPane
from polyb0t_tui.widgets.intent_queue import IntentQueue
from polyb0t_tui.widgets.log_pane import LogPane
from polyb0t_tui.widgets.market_table import MarketTable
from polyb0t_tui.widgets.pane_tabs import PANES, PaneTabs
from polyb0t_tui.widgets.portfolio_pane import PortfolioPane
from polyb0t_tui.widgets.signal_pane import SignalPane
from polyb0t_tui.widgets.status_bar import StatusBar


class DashboardScreen(Screen[None]):
    # Textual declares these without ClassVar, so mypy refuses one here
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (140, "-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (40, "-tall")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = textual_bindings(DASHBOARD)  # polyb0t_tui.keymap

    def __init__(
        self,
        *,
        edge_threshold: float,
        linger: float,
        stale_seconds: float,
        link_label: str,
    ) -> None:
        super().__init__()
        # Built once and kept: the bridge updates them by reference, never by query (a pull
        # may land while the app is tearing the screen down).
        self.status_bar = StatusBar(stale_seconds=stale_seconds, link_label=link_label, id="status")
        self.filter_box = Input(placeholder="filter markets (Esc clears)", id="filter")
        self.filter_box.cursor_blink = False
        self.table = MarketTable(edge_threshold=edge_threshold, id="markets")
        self.tabs = PaneTabs(id="pane-tabs")
        self.intent_queue = IntentQueue(linger=linger, id="intents", classes="pane -active")
        self.portfolio = PortfolioPane(id="portfolio", classes="pane")
        self.experts = ExpertPane(id="experts", classes="pane")
        self.signals = SignalPane(id="signals", classes="pane")
        self.log_pane = LogPane(id="log", classes="pane")
        self.panes: dict[str, Widget] = {
            "intents": self.intent_queue,
            "portfolio": self.portfolio,
            "experts": self.experts,
            "signals": self.signals,
            "log": self.log_pane,
        }
        self._auto_pane = True  # until the person picks a pane, the mode picks one

    def compose(self) -> ComposeResult:
        yield self.status_bar
        with Container(id="body"):
            with Vertical(id="main"):
                yield self.filter_box
                yield self.table
            yield self.tabs
            # grid order when wide: intents, portfolio, experts down the right; then the
            # signals and the log along the bottom
            yield from self.panes.values()
        yield Footer(compact=True)

    def on_mount(self) -> None:
        for key, title in PANES:
            self.panes[key].border_title = title
        self.intent_queue.border_subtitle = "a approve · r reject"
        self.table.focus()

    def apply_view(self, delta: ViewDelta, now: float) -> None:
        """Fold one pull into every widget (the bridge calls this inside one batch)."""
        self.table.apply_rows(delta.rows, delta.n_rows, delta.full)
        if delta.status is not None:
            if self._auto_pane:
                self._auto_pane = False
                if delta.status.mode == "PAPER":
                    self.show_pane("signals", focus=False)  # paper mode has no intents
            self.status_bar.show(delta.status)
            self.table.set_now(now)
        self.intent_queue.show(delta.intents, now)
        self.signals.show(delta.signals)
        self.experts.show(delta.experts)
        self.portfolio.show(delta.portfolio)
        if delta.log:
            self.log_pane.add_lines(delta.log)

    # --- panes -----------------------------------------------------------------------------

    def show_pane(self, key: str, focus: bool = True) -> None:
        for pane_key, pane in self.panes.items():
            pane.set_class(pane_key == key, "-active")
        self.tabs.activate(key)
        if focus:
            pane = self.panes[key]
            target = pane if pane.can_focus else _first_focusable(pane)
            if target is not None:
                self.call_after_refresh(target.focus)

    def action_pane(self, key: str) -> None:
        self._auto_pane = False
        self.show_pane(key)

    @on(PaneTabs.Picked)
    def _picked(self, event: PaneTabs.Picked) -> None:
        self._auto_pane = False
        self.show_pane(event.pane)

    # --- filter ----------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.filter_box
        box.add_class("-shown")
        box.focus()

    def action_leave(self) -> None:
        """Esc: in the filter box clear it; elsewhere go back to the table (and clear a
        filter left on it)."""
        if self.filter_box.has_focus or self.focused is self.table:
            self.clear_filter()
        self.table.focus()

    def clear_filter(self) -> None:
        self.filter_box.value = ""
        self.filter_box.remove_class("-shown")
        self.table.set_filter("")

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value:
            self.filter_box.remove_class("-shown")
        self.table.focus()


def _first_focusable(widget: Widget) -> Widget | None:
    for child in widget.query("*"):
        if child.can_focus:
            return child
    return None
