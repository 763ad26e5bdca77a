"""The trading console: one App over any `EngineLink`, in-process or attached to a daemon.

`make_app` is the only way the CLI and the tests build it. The app owns the bridge (pulls and
the in-process engine worker), app-wide keys (quit, help, pause/resume, kill, retrain) and the
command palette; widgets own their own keys. Every binding has an id, and `[ui.keys]` in the
config remaps them through Textual's keymap.
"""

from __future__ import annotations

import gc
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from engine.config import Settings
from engine.feed.link import EngineLink
from engine.feed.view import StatusView
from polyb0t_tui import approval
from polyb0t_tui import formatting as fmt
from polyb0t_tui.bridge import Bridge, EngineTask
from polyb0t_tui.keymap import EVERYWHERE, textual_bindings
from polyb0t_tui.messages import (
    ApproveRequested,
    EngineErrorSeen,
    EngineStateChanged,
    EngineStopped,
    FillSeen,
    IntentChanged,
    IntentsCreated,
    OpenMarket,
    RejectRequested,
)
from polyb0t_tui.screens.confirm import ConfirmScreen
from polyb0t_tui.screens.dashboard import DashboardScreen
from polyb0t_tui.screens.help import HelpEntry, HelpScreen, entries_for
from polyb0t_tui.screens.market_detail import MarketDetailScreen
from polyb0t_tui.table_model import SORT_KEYS
from polyb0t_tui.widgets.intent_queue import IntentQueue
from polyb0t_tui.widgets.market_table import MarketTable
from polyb0t_tui.widgets.pane_table import PaneTable
from polyb0t_tui.widgets.pane_tabs import PANES
from polyb0t_tui.widgets.signal_pane import SignalPane

Mode = Literal["local", "attached"]
STYLES = Path(__file__).parent / "styles"
INTENT_NOTICES = {
    "APPROVED": ("approved", "information"),
    "EXECUTED_DRYRUN": ("executed (dry run, nothing sent)", "information"),
    "SUBMITTED": ("submitted", "information"),
    "FILLED": ("filled", "information"),
    "PARTIAL": ("partially filled", "warning"),
    "FAILED": ("failed", "error"),
    "EXPIRED": ("expired", "warning"),
}


class PolybotApp(App[Any]):
    CSS_PATH = STYLES / "app.tcss"
    TITLE = "polyb0t"
    BINDINGS: ClassVar[list[BindingType]] = textual_bindings(EVERYWHERE)  # polyb0t_tui.keymap

    def __init__(
        self,
        settings: Settings,
        link: EngineLink,
        *,
        mode: Mode = "local",
        clock: Callable[[], float] | None = None,
        engine: EngineTask | None = None,
        cycles: int | None = None,
        duration: float | None = None,
        handle_signals: bool = False,
        freeze_gc: bool | None = None,
    ) -> None:
        super().__init__()
        if engine is not None and mode != "local":
            raise ValueError("an engine runs in this process only in local mode")
        self.settings = settings
        self.link = link
        self.mode = mode
        self.clock = clock or time.time
        self.bridge = Bridge(
            self,
            link,
            refresh_per_second=settings.ui.refresh_per_second,
            engine_now=lambda s: s.ts if s is not None else float("nan"),
        )
        self._engine = engine
        self._run_args = (cycles, duration)
        self._handle_signals = handle_signals
        self._freeze_gc = handle_signals if freeze_gc is None else freeze_gc
        self._quitting = False
        self._approving = False
        self.acted: set[str] = set()  # intents this console answered: no echo notices
        self.said: deque[tuple[str, str]] = deque(maxlen=200)  # (severity, text), newest last

    # --- start and stop --------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        ui = self.settings.ui
        return DashboardScreen(
            edge_threshold=self.settings.strategy.edge_threshold,
            linger=ui.result_linger_seconds,
            stale_seconds=self.settings.risk.stale_data_seconds,
            link_label="attached" if self.mode == "attached" else "",
        )

    def on_mount(self) -> None:
        self._apply_keymap()

    def on_ready(self) -> None:
        """The dashboard is composed: start pulling, and start the engine if we own it."""
        self.bridge.start()
        if self._engine is not None:
            cycles, duration = self._run_args
            self.bridge.start_engine(self._engine, cycles=cycles, duration=duration)
        if self._freeze_gc:
            # The start-up heap (10,000 rows, the widget tree) is long-lived: keep it out of
            # the cyclic collector's full scans, which otherwise stall a frame by ~60 ms.
            gc.freeze()
        loop = self._loop
        if self._handle_signals and loop is not None:
            loop.add_signal_handler(signal.SIGTERM, partial(self.call_later, self.action_quit))
            loop.add_signal_handler(signal.SIGHUP, partial(self.call_later, self._hang_up))

    async def _hang_up(self) -> None:
        """The terminal is gone (SSH dropped): stop the engine cleanly, then leave at once.

        Textual's own teardown restores the terminal by writing to it, and with the terminal
        hung up that write can block forever (seen with stdout redirected), leaving a process
        that holds the database. The engine has recorded its end by the time we exit.
        """
        await self.bridge.shutdown()
        os._exit(128 + signal.SIGHUP)

    def on_unmount(self) -> None:
        self.bridge.stop.set()  # however the app ends, the engine is told to stop

    async def action_quit(self) -> None:
        if self._quitting:
            return
        self._quitting = True
        await self.bridge.shutdown()  # the link belongs to whoever made it: they close it
        self.exit(self.bridge.summary)

    # --- keymap and help -------------------------------------------------------------------

    def binding_groups(self) -> list[tuple[str, list[BindingType]]]:
        return [
            ("everywhere", list(PolybotApp.BINDINGS)),
            ("dashboard", list(DashboardScreen.BINDINGS)),
            ("market table", list(MarketTable.BINDINGS)),
            ("intent queue", list(IntentQueue.BINDINGS)),
            ("signals", list(SignalPane.BINDINGS)),
            ("any pane", list(PaneTable.BINDINGS)),
            ("market detail", list(MarketDetailScreen.BINDINGS)),
            ("dialogs", list(ConfirmScreen.BINDINGS)),
            ("help", list(HelpScreen.BINDINGS)),
        ]

    def binding_ids(self) -> set[str]:
        return {
            b.id
            for _, group in self.binding_groups()
            for b in Binding.make_bindings(group)
            if b.id is not None
        }

    def _apply_keymap(self) -> None:
        keys = dict(self.settings.ui.keys)
        unknown = sorted(set(keys) - self.binding_ids())
        for name in unknown:
            del keys[name]
        if unknown:
            self.say(
                f"[ui.keys] has unknown binding ids: {', '.join(unknown)} (press ? for the ids)",
                "warning",
            )
        if keys:
            self.set_keymap(keys)

    def help_entries(self) -> list[HelpEntry]:
        notes = {} if self.retrain_available else {"retrain": "unavailable until ML experts exist"}
        entries = entries_for(
            self.binding_groups(),
            {k: v for k, v in self.settings.ui.keys.items()},
            lambda key: self.get_key_display(Binding(key, "")),
            notes,
        )
        entries.append(HelpEntry("ctrl+p", "command palette", "everywhere", "(textual)"))
        entries.append(HelpEntry("tab", "next pane / widget", "everywhere", "(textual)"))
        entries.append(HelpEntry("ctrl+q", "quit", "everywhere", "(textual)"))
        return entries

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_entries()))

    # --- engine state and commands ---------------------------------------------------------

    @property
    def status(self) -> StatusView | None:
        return self.bridge.status

    @property
    def engine_state(self) -> str | None:
        s = self.bridge.status
        if self._engine is not None and not self.bridge.engine_running and s is not None:
            return "stopped"
        return None if s is None else s.state

    def engine_now(self) -> float:
        """Engine time of the newest view: countdowns and time to resolution use it."""
        return self.bridge.engine_now(self.bridge.status)

    @property
    def retrain_available(self) -> bool:
        """Something trainable exists once an expert reports a training time."""
        dash = self.dashboard
        return dash is not None and dash.experts.has_trained

    @property
    def dashboard(self) -> DashboardScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, DashboardScreen):
                return screen
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        state = self.engine_state
        stopped = state in ("paused", "halted")
        if action == "pause":  # hidden while `p` means resume; greyed out with no engine
            return True if state == "running" else (False if stopped else None)
        if action == "resume":
            return stopped
        if action == "kill":
            return None if state in ("halted", None) else True
        if action == "retrain":
            return True if self.retrain_available else None
        return True

    def action_pause(self) -> None:
        self.run_worker(self._command("pause"), group="command")

    def action_resume(self) -> None:
        self.run_worker(self._resume(), group="command")

    def action_kill(self) -> None:
        self.run_worker(self._kill(), group="command")

    def action_retrain(self) -> None:
        self.run_worker(self._command("retrain"), group="command")

    async def _resume(self) -> None:
        status = self.bridge.status
        if status is not None and status.state == "halted":
            yes = await self.push_screen_wait(
                ConfirmScreen(
                    "Resume after kill switch?",
                    f"Trading was halted: {status.reason or 'no reason given'}.\n"
                    "Resume trading anyway?",
                    confirm="Resume",
                    danger=True,
                )
            )
            if not yes:
                return
        await self._command("resume")

    async def _kill(self) -> None:
        yes = await self.push_screen_wait(
            ConfirmScreen(
                "Kill switch",
                "Halt trading now? No new orders or intents until someone resumes.",
                confirm="Halt trading",
                danger=True,
            )
        )
        if yes:
            await self._command("kill", reason="kill switch from the console")

    async def _command(self, name: str, **args: Any) -> None:
        result = await self.link.command(name, **args)
        self.say(result.message, "information" if result.ok else "warning")
        self.bridge.pull()
        self.refresh_bindings()

    # --- messages from the bridge and widgets ------------------------------------------------

    @on(ApproveRequested)
    def _approve(self, event: ApproveRequested) -> None:
        if self._approving:
            self.say("an approval is already in progress", "warning")
            return
        self._approving = True

        async def flow() -> None:
            try:
                await approval.approve(self, event.intent)
            finally:
                self._approving = False

        self.run_worker(flow(), group="approval")

    @on(RejectRequested)
    def _reject(self, event: RejectRequested) -> None:
        self.run_worker(approval.reject(self, event.intent), group="approval")

    @on(OpenMarket)
    def _open_market(self, event: OpenMarket) -> None:
        screen = self.screen
        if isinstance(screen, MarketDetailScreen) and screen.market_id == event.market_id:
            return
        self.push_screen(
            MarketDetailScreen(
                event.market_id,
                event.question,
                self.link,
                status=self.bridge.status,
                stale_seconds=self.settings.risk.stale_data_seconds,
                link_label="attached" if self.mode == "attached" else "",
            )
        )

    @on(IntentsCreated)
    def _intents_created(self, event: IntentsCreated) -> None:
        for i in event.intents:
            self.log_line("INFO", f"new intent: {approval.describe(i).replace(chr(10), ' ')}")
        n = len(event.intents)
        best = max(event.intents, key=lambda i: i.edge)
        edge = fmt.signed_cents(best.edge).strip()
        self.notify(
            f"{n} new intent{'s' if n > 1 else ''}, best edge {edge}¢ (1: intents)",
            title="approval needed",
            timeout=4,
        )

    @on(IntentChanged)
    def _intent_changed(self, event: IntentChanged) -> None:
        i = event.intent
        notice = INTENT_NOTICES.get(i.state)
        if i.intent_id in self.acted and i.state in ("APPROVED", "REJECTED"):
            return  # the command's own answer already said so
        if notice is not None:
            text, severity = notice
            reason = f": {i.reason}" if i.reason else ""
            self.say(f"intent {text}{reason} — {i.question}", severity)

    @on(FillSeen)
    def _fill(self, event: FillSeen) -> None:
        self.log_line(
            "FILL",
            f"{event.change:+,.2f} {event.outcome} {event.question} (now {event.size:,.2f})",
        )

    @on(EngineErrorSeen)
    def _engine_error(self, event: EngineErrorSeen) -> None:
        self.notify(event.message, title="engine error", severity="error")

    @on(EngineStateChanged)
    def _state_changed(self, event: EngineStateChanged) -> None:
        self.refresh_bindings()
        if event.state == "halted":
            self.say(f"TRADING HALTED: {event.reason or 'kill switch'}", "error")
        elif event.state == "paused":
            self.say("trading paused", "warning")
        elif event.state == "running" and event.before in ("paused", "halted"):
            self.say("trading resumed", "information")

    @on(EngineStopped)
    def _engine_stopped(self, event: EngineStopped) -> None:
        dash = self.dashboard
        if dash is not None:
            dash.status_bar.set_state_override("stopped")
        self.refresh_bindings()
        if event.error:
            self.say(f"engine failed: {event.error}", "error")
        elif not self._quitting:
            self.say("engine stopped", "warning")

    def say(self, text: str, severity: str = "information") -> None:
        """Tell the person: a notification, and a line in the log pane to read later."""
        self.said.append((severity, text))
        level = {"error": "ERROR", "warning": "WARNING"}.get(severity, "INFO")
        self.log_line(level, text)
        self.notify(text, severity=severity)  # type: ignore[arg-type]

    def log_line(self, level: str, text: str) -> None:
        dash = self.dashboard
        if dash is not None and dash.is_mounted:
            dash.log_pane.add(self.clock(), level, text)

    # --- command palette -----------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        state = self.engine_state
        if state == "running":
            yield SystemCommand("Pause trading", "Stop new orders/intents (p)", self.action_pause)
        if state in ("paused", "halted"):
            yield SystemCommand("Resume trading", "Trade again (p)", self.action_resume)
        if state not in ("halted", None):
            yield SystemCommand("Kill switch", "Halt trading now (K)", self.action_kill)
        yield SystemCommand(
            "Retrain now",
            "Retrain the experts (t)"
            + ("" if self.retrain_available else " — unavailable until ML experts exist"),
            self.action_retrain,
        )
        yield SystemCommand("Help", "Every key binding (?)", self.action_help)
        dash = self.dashboard
        if dash is None:
            return
        intent = dash.intent_queue.selected
        if intent is not None:
            yield SystemCommand(
                "Approve selected intent", intent.question, partial(self._approve_selected, True)
            )
            yield SystemCommand(
                "Reject selected intent", intent.question, partial(self._approve_selected, False)
            )
        yield SystemCommand("Filter markets", "Type to filter (/)", dash.action_filter)
        yield SystemCommand("Clear filter", "Show every market (Esc)", dash.clear_filter)
        yield SystemCommand("Open selected market", "Market detail (Enter)", dash.table.action_open)
        for spec in SORT_KEYS:
            yield SystemCommand(
                f"Sort markets by {spec.title}",
                "Sort the market table (s cycles, S reverses)",
                partial(dash.table.sort_by, spec.key),
            )
        yield SystemCommand("Reverse sort order", "S", dash.table.action_reverse_sort)
        for n, (key, title) in enumerate(PANES, 1):
            yield SystemCommand(f"Show {title}", f"Pane {n}", partial(dash.show_pane, key))

    def _approve_selected(self, yes: bool) -> None:
        dash = self.dashboard
        intent = dash.intent_queue.selected if dash is not None else None
        if intent is not None:
            self.post_message(ApproveRequested(intent) if yes else RejectRequested(intent))


def make_app(
    settings: Settings,
    link: EngineLink,
    *,
    mode: Mode = "local",
    clock: Callable[[], float] | None = None,
    engine: EngineTask | None = None,
    cycles: int | None = None,
    duration: float | None = None,
    handle_signals: bool = False,
    freeze_gc: bool | None = None,
) -> PolybotApp:
    """The console over `link`.

    mode: "local" (an engine in this process; pass `engine` to run it as a worker that stops
    when the app quits) or "attached" (a daemon's engine over the control socket).
    clock: wall clock for the console's own log lines (tests freeze it); countdowns and time
    to resolution always use the engine time the view carries.
    handle_signals: the app is the process's main program (the CLI): SIGTERM/SIGHUP quit it
    cleanly. freeze_gc (default: the same) moves the start-up heap out of the garbage
    collector's scans once the first view is shown; tests that build many apps leave it off.
    """
    return PolybotApp(
        settings,
        link,
        mode=mode,
        clock=clock,
        engine=engine,
        cycles=cycles,
        duration=duration,
        handle_signals=handle_signals,
        freeze_gc=freeze_gc,
    )
