"""Messages between the bridge, the widgets and the app, as dataclasses.

The bridge turns differences between two pulls into these discrete events, so widgets never
compare snapshots themselves and the app decides in one place what deserves a notification.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from engine.feed.view import IntentView


@dataclass
class OpenMarket(Message):
    """Show the detail screen of a market (Enter on a table row, or the palette)."""

    market_id: str
    question: str


@dataclass
class IntentsCreated(Message):
    """New intents seen in one pull (one message for a burst: one notification)."""

    intents: tuple[IntentView, ...]


@dataclass
class IntentChanged(Message):
    """An intent moved to another state (approved, executed, failed, expired, ...)."""

    intent: IntentView
    before: str


@dataclass
class FillSeen(Message):
    """A position grew or shrank between two pulls: an order filled."""

    question: str
    outcome: str
    change: float  # shares, + bought, - sold
    size: float  # shares held now


@dataclass
class EngineErrorSeen(Message):
    message: str


@dataclass
class EngineStateChanged(Message):
    state: str
    reason: str | None
    before: str | None


@dataclass
class EngineStopped(Message):
    """The in-process engine's worker ended (asked to, finished its cycles, or failed)."""

    summary: Any
    error: str | None


@dataclass
class ApproveRequested(Message):
    intent: IntentView


@dataclass
class RejectRequested(Message):
    intent: IntentView
