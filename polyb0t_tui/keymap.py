"""Every key binding of the console, and the check of a user's `[ui.keys]` remaps.

Why a table without Textual: `polyb0t config validate` (and the console before it is built)
must refuse a remap that makes one key do two things, and neither may load the UI. So the
bindings live here as data: the widgets and screens build their Textual `BINDINGS` from
`textual_bindings(scope)`, and `keymap_problems` checks a keymap against the same table.

What counts as a clash: two bindings that are live at the same time (see `CONTEXTS`: the
focused widget, its screen and the app) on one key, where the user's keymap put at least
one of them there. The defaults share keys on purpose where one shadows the other (`q`
closes the help screen instead of quitting) or where only one is enabled at a time
(pause/resume on `p`); a remap onto another binding's key is never on purpose:
`approve = "q"` made pressing q to quit execute an intent.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.config import looks_like_secret

if TYPE_CHECKING:
    from textual.binding import BindingType


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One binding: `keys` in Textual's syntax (comma-separated, long names)."""

    id: str
    keys: str
    action: str
    description: str
    scope: str
    tooltip: str = ""
    show: bool = True


# Where a binding works; also the group names the help screen shows.
EVERYWHERE = "everywhere"
DASHBOARD = "dashboard"
MARKET_TABLE = "market table"
INTENT_QUEUE = "intent queue"
SIGNALS = "signals"
ANY_PANE = "any pane"
MARKET_DETAIL = "market detail"
DIALOGS = "dialogs"
HELP = "help"

# The dashboard's panes, in number-key order (the tab strip shows them too).
PANES: tuple[tuple[str, str], ...] = (
    ("intents", "Intents"),
    ("signals", "Signals"),
    ("portfolio", "Portfolio"),
    ("experts", "Experts"),
    ("log", "Log"),
)

SPECS: tuple[KeySpec, ...] = (
    KeySpec("quit", "q", "quit", "Quit", EVERYWHERE, "Quit (stops an in-process engine)"),
    KeySpec("help", "question_mark", "help", "Help", EVERYWHERE, "Every key binding"),
    KeySpec("pause", "p", "pause", "Pause", EVERYWHERE, "Pause trading"),
    KeySpec(
        "resume", "p", "resume", "Resume", EVERYWHERE, "Resume trading (asks after a kill switch)"
    ),
    KeySpec("kill", "K", "kill", "Kill", EVERYWHERE, "Kill switch: halt trading (asks first)"),
    KeySpec("retrain", "t", "retrain", "Retrain", EVERYWHERE, "Retrain the experts now"),
    KeySpec("filter", "slash", "filter", "Filter", DASHBOARD, "Filter markets as you type"),
    KeySpec("filter.clear", "escape", "leave", "Back to table", DASHBOARD, show=False),
    *(
        KeySpec(f"pane.{key}", str(n), f"pane('{key}')", title, DASHBOARD, show=False)
        for n, (key, title) in enumerate(PANES, 1)
    ),
    KeySpec("table.up", "up,k", "cursor(-1)", "Up", MARKET_TABLE, show=False),
    KeySpec("table.down", "down,j", "cursor(1)", "Down", MARKET_TABLE, show=False),
    KeySpec("table.page_up", "pageup", "page(-1)", "Page up", MARKET_TABLE, show=False),
    KeySpec("table.page_down", "pagedown", "page(1)", "Page down", MARKET_TABLE, show=False),
    KeySpec("top", "home,g", "top", "Top", MARKET_TABLE, show=False),
    KeySpec("bottom", "end,G", "bottom", "Bottom", MARKET_TABLE, show=False),
    KeySpec("open", "enter", "open", "Detail", MARKET_TABLE, "Open the market's detail"),
    KeySpec("sort", "s", "cycle_sort", "Sort", MARKET_TABLE, "Sort by the next column"),
    KeySpec("sort_reverse", "S", "reverse_sort", "Reverse sort", MARKET_TABLE, show=False),
    KeySpec("approve", "a", "approve", "Approve", INTENT_QUEUE),
    KeySpec("reject", "r", "reject", "Reject", INTENT_QUEUE),
    KeySpec("signals.open", "enter", "open", "Market", SIGNALS),
    KeySpec("pane.up", "up,k", "cursor(-1)", "Up", ANY_PANE, show=False),
    KeySpec("pane.down", "down,j", "cursor(1)", "Down", ANY_PANE, show=False),
    KeySpec("pane.first", "home,g", "cursor_to(0)", "First", ANY_PANE, show=False),
    KeySpec("pane.last", "end,G", "cursor_to(-1)", "Last", ANY_PANE, show=False),
    KeySpec("detail.back", "escape,q,backspace", "back", "Back", MARKET_DETAIL),
    KeySpec("detail.reload", "f5", "reload", "Reload", MARKET_DETAIL, show=False),
    KeySpec("confirm.yes", "y", "answer(True)", "Yes", DIALOGS),
    KeySpec("confirm.no", "n,escape", "answer(False)", "No", DIALOGS),
    KeySpec("confirm.switch", "left,right", "switch", "Other button", DIALOGS, show=False),
    KeySpec("help.close", "escape,q,question_mark", "close", "Close", HELP),
)
BY_ID: dict[str, KeySpec] = {s.id: s for s in SPECS}

# Scopes live at the same time: a focused widget (and the pane classes it is), its screen,
# the app. Every pane (intents, signals, positions, experts, help rows) is an ANY_PANE.
CONTEXTS: tuple[frozenset[str], ...] = (
    frozenset({EVERYWHERE, DASHBOARD, MARKET_TABLE}),
    frozenset({EVERYWHERE, DASHBOARD, ANY_PANE, INTENT_QUEUE}),
    frozenset({EVERYWHERE, DASHBOARD, ANY_PANE, SIGNALS}),
    frozenset({EVERYWHERE, MARKET_DETAIL, ANY_PANE, SIGNALS}),
    frozenset({EVERYWHERE, DIALOGS}),
    frozenset({EVERYWHERE, HELP, ANY_PANE}),
)
# Bindings that share a key by design: the app enables one of them at a time.
ALTERNATES: tuple[frozenset[str], ...] = (frozenset({"pause", "resume"}),)
# Keys Textual itself answers everywhere, with the action it runs: a remap onto one would
# shadow it or be shadowed, unless it runs the same action (quit = "ctrl+q" is fine).
RESERVED: dict[str, tuple[str, str]] = {
    "ctrl+q": ("Textual's quit", "quit"),
    "ctrl+c": ("Textual's copy / quit help", "help_quit"),
    "ctrl+p": ("the command palette", "command_palette"),
    "tab": ("focus next", "app.focus_next"),
    "shift+tab": ("focus previous", "app.focus_previous"),
}
_ALIASES = {"ctrl+i": "tab", "ctrl+m": "enter", "ctrl+left_square_brace": "escape"}
_MODIFIERS = ("ctrl", "shift", "alt", "meta", "super", "hyper")
_KEY = re.compile(rf"(?:(?:{'|'.join(_MODIFIERS)})\+)*(?:[^\s,]|[a-z][a-z0-9_]*)")
_RENAMED = {  # Textual's names for characters whose Unicode names it shortens
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.-]{1,40}")
MAX_KEYS_PER_BINDING = 8
MAX_KEY_TEXT = 100


def specs_for(scope: str) -> tuple[KeySpec, ...]:
    return tuple(s for s in SPECS if s.scope == scope)


def textual_bindings(scope: str) -> list[BindingType]:
    """The Textual bindings of one scope, for a widget's or screen's `BINDINGS`.

    Textual is imported here, not at module level: only UI modules call this.
    """
    from textual.binding import Binding

    return [
        Binding(s.keys, s.action, s.description, show=s.show, tooltip=s.tooltip, id=s.id)
        for s in specs_for(scope)
    ]


def normalise_key(key: str) -> str:
    """A key as Textual compares it: `?` is `question_mark`, `/` is `slash`, ctrl+m is
    enter (the long names a keymap value is turned into before use)."""
    key = key.strip()
    if len(key) == 1 and not key.isalnum():
        try:
            name = unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
        except ValueError:
            name = key
        key = _RENAMED.get(name, name)
    return _ALIASES.get(key, key)


def _keys(text: str) -> list[str]:
    return [normalise_key(k) for k in text.split(",")]


def _shown(value: str) -> str:
    return "<hidden>" if looks_like_secret(value) else repr(value[:40])


def _shown_id(name: str) -> str:
    return name if _PLAIN_ID.fullmatch(name) and not looks_like_secret(name) else _shown(name)


def keymap_problems(keymap: Mapping[str, str]) -> list[str]:
    """One line per problem in a `[ui.keys]` table: unknown ids, keys that are not key
    names, reserved keys, and clashes (see the module docstring). Empty when usable."""
    problems: list[str] = []
    effective = {s.id: _keys(s.keys) for s in SPECS}
    remapped: set[str] = set()
    for binding_id, value in keymap.items():
        if binding_id not in BY_ID:
            near = difflib.get_close_matches(binding_id, list(BY_ID), n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            problems.append(
                f"[ui.keys] {_shown_id(binding_id)}: no such binding{hint}; the console's help "
                "screen (?) lists every id"
            )
            continue
        keys = _keys(value) if len(value) <= MAX_KEY_TEXT else []
        bad = [k for k in keys if not _KEY.fullmatch(k)]
        if not keys or bad or len(keys) > MAX_KEYS_PER_BINDING:
            problems.append(
                f"[ui.keys] {binding_id} = {_shown(value)}: not a key list; give up to "
                f"{MAX_KEYS_PER_BINDING} Textual key names separated by commas, e.g. "
                '"y" or "ctrl+a,f2"'
            )
            continue
        action = BY_ID[binding_id].action
        reserved = [k for k in keys if k in RESERVED and RESERVED[k][1] != action]
        if reserved:
            problems.append(
                f"[ui.keys] {binding_id} = {value!r}: {reserved[0]} is "
                f"{RESERVED[reserved[0]][0]}; pick another key"
            )
            continue
        effective[binding_id] = keys
        remapped.add(binding_id)
    problems += _clashes(keymap, effective, remapped)
    return problems


def _clashes(
    keymap: Mapping[str, str], effective: dict[str, list[str]], remapped: set[str]
) -> list[str]:
    """One line per remapped binding and key that another live binding also has."""
    others: dict[tuple[str, str], list[KeySpec]] = {}
    for context in CONTEXTS:
        live = [s for s in SPECS if s.scope in context]
        for mine in live:
            if mine.id not in remapped:
                continue
            for other in live:
                pair = frozenset({mine.id, other.id})
                if other.id == mine.id or pair in ALTERNATES:
                    continue
                if other.id in remapped and other.id < mine.id:
                    continue  # both remapped onto one key: said once, from the first id
                for key in effective[mine.id]:
                    found = others.setdefault((mine.id, key), [])
                    if key in effective[other.id] and other not in found:
                        found.append(other)
    lines = []
    for (binding_id, key), clashing in others.items():
        if not clashing:
            continue
        named = " and ".join(f"{o.id} ({o.scope})" for o in clashing)
        lines.append(
            f"[ui.keys] {binding_id} = {keymap[binding_id]!r}: {key} is also the key of "
            f"{named}, so one key press would do both; pick another key"
        )
    return lines
