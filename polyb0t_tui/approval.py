"""Approving and rejecting an intent from the console, as one readable flow each.

Approval re-checks the book first (through the link, so it is the engine's book even when
attached), then asks at most one question: "approve anyway?" when the re-check failed on the
price or the edge (an override, stored with the intent, which the engine then honours; a
market gone or a SELL of shares no longer held cannot be overridden), or "approve?" when the
cost is above `confirm_above_usd`. Every outcome is said out loud; a
click that did nothing (expired, taken by another console) is never silent.
"""

from __future__ import annotations

from typing import Any, Protocol

from textual.screen import Screen

from engine.config import Settings
from engine.feed.link import EngineLink
from engine.feed.view import IntentView
from polyb0t_tui import formatting as fmt
from polyb0t_tui.screens.confirm import ConfirmScreen


class _Pulls(Protocol):
    def pull(self) -> None: ...


class ApprovalHost(Protocol):
    """What the approval flow needs of the console (the app implements it; this module does
    not import the app, which imports this one)."""

    settings: Settings
    link: EngineLink
    acted: set[str]

    @property
    def bridge(self) -> _Pulls: ...

    def engine_now(self) -> float: ...

    def say(self, text: str, severity: str = "information") -> None: ...

    async def push_screen_wait(self, screen: Screen[Any]) -> Any: ...


def describe(i: IntentView) -> str:
    return (
        f"{fmt.side_label(i.side, i.outcome)} {i.size:,.2f} @ {fmt.cents(i.price).strip()}¢ "
        f"(cost ${fmt.money(i.cost)}, edge {fmt.signed_cents(i.edge).strip()}¢)\n{i.question}"
    )


async def approve(app: ApprovalHost, intent: IntentView) -> None:
    if intent.state != "PENDING":
        app.say(f"cannot approve: the intent is {intent.state}, not PENDING", "warning")
        return
    now = app.engine_now()
    if intent.expires_ts <= now:
        app.say(f"cannot approve: the intent expired at {fmt.utc(intent.expires_ts)}", "warning")
        return
    check = await app.link.command("recheck", intent_id=intent.intent_id)
    override: str | None = None
    if not check.ok and not check.data.get("overridable"):
        app.say(f"cannot approve: {check.message}", "warning")
        return
    if not check.ok:
        again = await app.push_screen_wait(
            ConfirmScreen(
                "Re-check failed",
                f"{describe(intent)}\n\nThe book has moved: {check.message}.",
                confirm="Approve anyway",
                cancel="Cancel",
                danger=True,
            )
        )
        if not again:
            app.say("not approved: re-check failed and was not overridden", "warning")
            return
        override = check.message  # the person's decision, stored with the intent
    elif intent.cost > app.settings.ui.confirm_above_usd:
        limit = fmt.money(app.settings.ui.confirm_above_usd)
        edge = check.data.get("edge")
        now_edge = (
            f"\nEdge at today's book: {fmt.signed_cents(edge).strip()}¢ after fees."
            if isinstance(edge, float)
            else ""
        )
        yes = await app.push_screen_wait(
            ConfirmScreen(
                "Approve intent?",
                f"{describe(intent)}\n\nCost is above ${limit}.{now_edge}",
                confirm="Approve",
            )
        )
        if not yes:
            app.say("not approved", "information")
            return
    app.acted.add(intent.intent_id)
    if override is not None:
        result = await app.link.command("approve", intent_id=intent.intent_id, override=override)
    else:
        result = await app.link.command("approve", intent_id=intent.intent_id)
    app.say(result.message, "information" if result.ok else "error")
    app.bridge.pull()


async def reject(app: ApprovalHost, intent: IntentView) -> None:
    if intent.state != "PENDING":
        app.say(f"cannot reject: the intent is {intent.state}, not PENDING", "warning")
        return
    app.acted.add(intent.intent_id)
    result = await app.link.command(
        "reject", intent_id=intent.intent_id, reason="rejected in the console"
    )
    app.say(result.message, "information" if result.ok else "error")
    app.bridge.pull()
