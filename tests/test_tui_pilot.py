"""What the console does when keys are pressed, checked in the database and the engine.

Each test steps a seeded engine a few cycles before the app exists, then drives the app with
Textual's Pilot; the approval path is checked through to the database (APPROVED, then
EXECUTED_DRYRUN once the engine's approval processor runs).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from engine.clock import SimClock
from engine.config import Settings
from engine.events import BookSnapshot
from engine.execution.approvals import ApprovalProcessor
from engine.models import EngineState, IntentState, Side
from polyb0t_tui.app import PolybotApp
from polyb0t_tui.runtime import Runtime
from polyb0t_tui.screens.confirm import ConfirmScreen
from polyb0t_tui.screens.help import HelpScreen
from polyb0t_tui.screens.market_detail import MarketDetailScreen
from polyb0t_tui.widgets.intent_queue import IntentQueue
from tests.tui_factories import FakeLink, console, settings_for, stepped


def approvals(rt: Runtime) -> ApprovalProcessor:
    assert rt.engine.approvals is not None, "a live runtime"
    return rt.engine.approvals


def sim_clock(rt: Runtime) -> SimClock:
    assert isinstance(rt.clock, SimClock)
    return rt.clock


async def settle(app: PolybotApp) -> None:
    await app.workers.wait_for_complete()
    await asyncio.sleep(0)
    await app.workers.wait_for_complete()


def queue(app: PolybotApp) -> IntentQueue:
    dash = app.dashboard
    assert dash is not None
    return dash.intent_queue


def said(app: PolybotApp) -> str:
    return "\n".join(text for _, text in app.said)


# --- approvals ---------------------------------------------------------------------------


async def test_a_approves_the_selected_intent_then_the_engine_executes_it_dry(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, ui={"confirm_above_usd": 1_000.0})
    rt = await stepped(settings, live=True, cycles=3)
    app = console(settings, rt.link)
    async with app.run_test() as pilot:
        await pilot.press("1")  # the intent queue, focused
        target = queue(app).selected
        assert target is not None and target.state == "PENDING"
        await pilot.press("a")
        await settle(app)
        assert rt.storage.intents.require(target.intent_id).state is IntentState.APPROVED
        assert f"intent {target.intent_id} approved" in said(app)
        approvals(rt).process(rt.clock.now())  # the engine's next step
        assert rt.storage.intents.require(target.intent_id).state is IntentState.EXECUTED_DRYRUN
        rt.view.refresh_intents()
        app.bridge.pull()
        await pilot.pause()
        shown = {i.intent_id: i.state for i in queue(app).intents}
        assert shown[target.intent_id] == "EXECUTED_DRYRUN"  # the result stays visible
        assert "executed (dry run" in said(app)


async def test_r_rejects_the_selected_intent(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    rt = await stepped(settings, live=True, cycles=3)
    app = console(settings, rt.link)
    async with app.run_test() as pilot:
        await pilot.press("1")
        target = queue(app).selected
        assert target is not None
        await pilot.press("r")
        await settle(app)
        intent = rt.storage.intents.require(target.intent_id)
        assert intent.state is IntentState.REJECTED
        assert intent.reason == "rejected in the console"
        # the cursor stays in place: the next pending intent is now under it
        nxt = queue(app).selected
        assert nxt is not None and nxt.intent_id != target.intent_id and nxt.state == "PENDING"


async def test_an_expired_intent_cannot_be_approved_and_the_console_says_so(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    rt = await stepped(settings, live=True, cycles=3)
    app = console(settings, rt.link)
    async with app.run_test() as pilot:
        await pilot.press("1")
        first = queue(app).selected
        assert first is not None
        # time passes beyond the deadline, but the console has not seen a step since
        sim_clock(rt).set(first.expires_ts + 1.0)
        await pilot.press("a")
        await settle(app)
        assert rt.storage.intents.require(first.intent_id).state is IntentState.EXPIRED
        assert "expired" in said(app) and "was not approved" in said(app)
        assert app.said[-1][0] == "error"
        # once the console shows it EXPIRED, `a` refuses without asking the engine
        approvals(rt).process(rt.clock.now())
        rt.view.refresh_intents()
        app.bridge.pull()
        await pilot.pause()
        rows = queue(app).intents
        expired = [n for n, i in enumerate(rows) if i.state == "EXPIRED"]
        assert expired
        queue(app).move_cursor(expired[0])
        before = len(app.said)
        await pilot.press("a")
        await settle(app)
        assert "cannot approve: the intent is EXPIRED" in app.said[-1][1]
        assert len(app.said) == before + 1


async def test_approve_and_reject_are_greyed_out_with_nothing_selected(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    rt = await stepped(settings, live=False, cycles=2)  # paper: no intents at all
    app = console(settings, rt.link)
    async with app.run_test() as pilot:
        await pilot.press("1")
        q = queue(app)
        assert q.selected is None
        assert q.check_action("approve", ()) is None  # None: shown disabled in the footer
        assert q.check_action("reject", ()) is None
        await pilot.press("a")
        await settle(app)
        assert not app.said


def _move_the_book_away(rt: Runtime, intent_id: str) -> None:
    """Every level of the token the intent buys is now 0.2 dearer: its re-check fails."""
    intent = rt.storage.intents.require(intent_id)
    m = rt.state.market(intent.market_id)
    assert m is not None and intent.side is Side.BUY
    px = np.array([min(0.99, intent.limit_price + 0.2)])
    sz = np.array([10_000.0])
    now = rt.clock.now()
    if intent.outcome.name == "YES":
        ev = BookSnapshot(m.yes_token, now, np.array([0.01]), sz, px, sz)
    else:  # NO asks are YES bids mirrored
        ev = BookSnapshot(m.yes_token, now, 1.0 - px, sz, np.array([0.99]), sz)
    rt.state.apply([ev])


async def test_a_failed_recheck_asks_again_and_an_override_is_carried_out(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, ui={"confirm_above_usd": 1_000.0})
    rt = await stepped(settings, live=True, cycles=3)
    app = console(settings, rt.link)
    async with app.run_test() as pilot:
        await pilot.press("1")
        target = queue(app).selected
        assert target is not None and target.state == "PENDING"
        _move_the_book_away(rt, target.intent_id)
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "price moved" in app.screen.message
        await pilot.press("n")  # cancel: nothing is approved
        await settle(app)
        assert rt.storage.intents.require(target.intent_id).state is IntentState.PENDING
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("y")  # approve anyway: the person's decision, kept with the intent
        await settle(app)
        approved = rt.storage.intents.require(target.intent_id)
        assert approved.state is IntentState.APPROVED
        assert approved.override is not None and "price moved" in approved.override
        approvals(rt).process(rt.clock.now())  # the engine honours it (dry run)
        done = rt.storage.intents.require(target.intent_id)
        assert done.state is IntentState.EXECUTED_DRYRUN, done.reason


async def test_above_the_threshold_approval_asks_first(tmp_path: Path) -> None:
    link, settings = _fake_live(confirm_above_usd=10.0)
    app = console(settings, link)
    async with app.run_test() as pilot:
        await pilot.press("1", "a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "Cost is above $10.00" in app.screen.message
        await pilot.press("escape")
        await settle(app)
        assert link.names() == ["recheck"]


def _fake_live(confirm_above_usd: float = 1_000.0) -> tuple[FakeLink, Settings]:
    from engine.feed.view import IntentView, StatusView, ViewDelta

    status = StatusView("LIVE DRY-RUN", "sim", "running", None, 0.0, 1000.0, 1000.0, 0.0, 3, 100.0)
    intent = IntentView(
        "i-1",
        "m-1",
        "Will it rain?",
        "YES",
        "BUY",
        0.5,
        40.0,
        20.0,
        0.07,
        "PENDING",
        90.0,
        400.0,
        90.0,
        None,
    )
    delta = ViewDelta(1, 0, (), status, (), (intent,), None, (), ())
    settings = settings_for(Path("/nonexistent"), ui={"confirm_above_usd": confirm_above_usd})
    return FakeLink(delta), settings


# --- run state ---------------------------------------------------------------------------


async def test_capital_k_halts_trading_after_confirming(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    rt = await stepped(settings, live=False, cycles=2)
    rt.control.start()  # as if the engine were still running
    rt.view.refresh_state()
    app = console(settings, rt.link)
    async with app.run_test() as pilot:
        await pilot.press("K")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(app)
        assert rt.control.state.value == "running"
        await pilot.press("K")
        await pilot.pause()
        await pilot.press("y")
        await settle(app)
        assert rt.control.state.value == "halted"
        await pilot.pause()
        status = app.dashboard.status_bar.status if app.dashboard else None
        assert status is not None and status.state == "halted"
        assert app.check_action("kill", ()) is None  # already halted: greyed out
        assert app.check_action("resume", ()) is True


async def test_p_pauses_and_resumes(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    rt = await stepped(settings, live=False, cycles=2)
    rt.control.start()
    rt.view.refresh_state()
    app = console(settings, rt.link)
    async with app.run_test() as pilot:
        await pilot.press("p")
        await settle(app)
        assert rt.control.state.value == "paused"
        await pilot.pause()
        await pilot.press("p")
        await settle(app)
        assert rt.control.state.value == "running"


async def test_retrain_is_shown_disabled_and_the_palette_says_why(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    rt = await stepped(settings, live=False, cycles=2)
    app = console(settings, rt.link)
    async with app.run_test() as pilot:
        assert app.check_action("retrain", ()) is None
        titles = {c.title: c for c in app.get_system_commands(app.screen)}
        command = titles["Retrain now"]
        assert "unavailable" in command.help
        command.callback()
        await settle(app)
        await pilot.pause()
        assert "not built yet" in app.said[-1][1]


# --- the market table ----------------------------------------------------------------------


async def test_sort_and_filter_change_the_visible_rows(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, markets=150)
    rt = await stepped(settings, live=False, cycles=2)
    app = console(settings, rt.link)
    async with app.run_test(size=(100, 30)) as pilot:
        dash = app.dashboard
        assert dash is not None
        table = dash.table
        volumes = [r.volume for r in table.visible_rows()]
        assert volumes == sorted(volumes, reverse=True)  # starts by volume, biggest first
        await pilot.press("S")  # reverse
        volumes = [r.volume for r in table.visible_rows()]
        assert volumes == sorted(volumes)
        await pilot.press("s")  # next column: edge, biggest first
        edges = [r.edge for r in table.visible_rows() if r.edge == r.edge]
        assert edges == sorted(edges, reverse=True)
        assert table.model.sort.key == "edge"

        await pilot.press("slash", *"fed")
        await pilot.pause()
        shown = table.visible_rows()
        assert shown and all("fed" in (r.question + r.category).lower() for r in shown)
        assert len(table.model) < rt.state.n
        await pilot.press("enter")  # back to the table, the filter stays
        assert table.has_focus and len(table.model) < rt.state.n
        await pilot.press("escape")  # clears it
        assert len(table.model) == rt.state.n

        await pilot.press("end")
        assert table.cursor == rt.state.n - 1
        await pilot.press("home")
        assert table.cursor == 0


async def test_enter_opens_the_market_detail_and_escape_returns(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    rt = await stepped(settings, live=False, cycles=6)
    app = console(settings, rt.link)
    async with app.run_test() as pilot:
        assert app.dashboard is not None
        row = app.dashboard.table.selected
        assert row is not None
        await pilot.press("enter")
        await settle(app)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MarketDetailScreen) and screen.market_id == row.market_id
        assert screen.detail is not None and len(screen.detail.history) == 6
        await pilot.press("escape")
        assert app.screen is app.dashboard


async def test_only_changed_rows_on_screen_are_redrawn(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, markets=300)
    rt = await stepped(settings, live=False, cycles=2)
    app = console(settings, rt.link)
    async with app.run_test() as pilot:
        assert app.dashboard is not None
        table = app.dashboard.table
        await pilot.pause()
        lines: list[int] = []
        original = table.refresh_lines

        def spy(y_start: int, line_count: int = 1) -> None:
            lines.append(y_start)
            original(y_start, line_count)

        table.refresh_lines = spy  # type: ignore[method-assign]
        shown = {r.row for r in table.visible_rows()}
        changed = [replace(r, bid=r.bid + 0.001) for r in (rt.link.pull(0).rows[:300])]
        table.apply_rows(changed, rt.state.n, full=False)
        visible_changed = [table.model.pos[r.row] + 1 for r in changed if r.row in shown]
        assert sorted(lines) == sorted(visible_changed)  # nothing off screen is repainted
        assert table.model.sort.key == "volume" and not table.model.stale  # bid: no re-sort


# --- help, keymap, quitting ----------------------------------------------------------------


async def test_help_lists_every_binding_with_the_users_keys(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, ui={"keys": {"approve": "y", "nonsense": "z"}})
    rt = await stepped(settings, live=True, cycles=3)
    app = console(settings, rt.link)
    async with app.run_test() as pilot:
        assert "unknown binding ids: nonsense" in said(app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        entries = {e.binding_id: e for e in app.screen.entries}
        assert entries["approve"].keys == "y"
        for binding_id in app.binding_ids():
            assert binding_id in entries, binding_id
        await pilot.press("escape")
        await pilot.press("1")
        target = queue(app).selected
        assert target is not None
        await pilot.press("y")  # remapped: approves
        await settle(app)
        assert rt.storage.intents.require(target.intent_id).state is IntentState.APPROVED


def test_every_binding_has_an_id(tmp_path: Path) -> None:
    from textual.binding import Binding

    settings = settings_for(tmp_path)
    app = console(settings, FakeLink(_fake_live()[0].delta))
    for where, group in app.binding_groups():
        for b in Binding.make_bindings(group):
            assert b.id, f"{where}: {b.key} -> {b.action} has no id"


async def test_quitting_stops_an_in_process_engine_within_two_seconds(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    from polyb0t_tui.runtime import build_runtime

    rt = build_runtime(settings, live=False, speed=1.0)  # paced: the engine mostly waits
    app = console(settings, rt.link, engine=rt.engine)
    async with app.run_test() as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if rt.control.state is EngineState.RUNNING and rt.cycle.count >= 1:
                break
        assert app.bridge.engine_running and rt.cycle.count >= 1
        t0 = time.monotonic()
        await pilot.press("q")
        if app.bridge.worker is not None:
            await app.bridge.worker.wait()
        elapsed = time.monotonic() - t0
    assert elapsed < 2.0
    assert rt.control.state is EngineState.STOPPED
    assert app.return_value is not None and app.return_value.stopped_by == "signal"
    run = rt.storage.store.latest_run()
    assert run is not None and run.ended_ts is not None


def test_meaningful_colours_stay_distinct_in_16_colours() -> None:
    """Mode badges, and price moves up or down, must not collapse to one colour on a
    16-colour terminal (rich's downgrade to the standard palette is what one would see)."""
    from rich.color import ColorSystem

    async def colours() -> tuple[set[int | None], set[int | None]]:
        link, settings = _fake_live()
        app = console(settings, link)
        async with app.run_test():
            dash = app.dashboard
            assert dash is not None
            badges = set()
            for name in ("paper", "dryrun", "live"):
                style = dash.status_bar.get_component_rich_style(f"status-bar--{name}")
                assert style.bgcolor is not None
                badges.add(style.bgcolor.downgrade(ColorSystem.STANDARD).number)
            moves = set()
            for name in ("up", "down"):
                style = dash.table.get_component_rich_style(f"market-table--{name}")
                assert style.color is not None
                moves.add(style.color.downgrade(ColorSystem.STANDARD).number)
            return badges, moves

    badges, moves = asyncio.run(colours())
    assert len(badges) == 3, badges
    assert len(moves) == 2, moves
