"""Read-side commands: `status`, `report`, `intents`.

They read the database, so they work whether or not an engine is running (and against a
daemon on another machine when the database is PostgreSQL). `--json` gives stable,
scriptable output.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from dataclasses import asdict, is_dataclass
from typing import Any

from rich.table import Table

from engine.clock import WallClock, day_start
from engine.execution.intents import IntentError
from engine.feed.commands import EngineCommands
from engine.models import IntentState, TradeIntent
from engine.storage.size import database_size
from polyb0t_tui.cli.common import (
    CliError,
    fmt_expiry,
    fmt_ts,
    print_json,
    settings_from,
    storage_from,
)
from polyb0t_tui.cli.pipe_console import console

# --- status --------------------------------------------------------------------------------


def _plain(obj: Any) -> Any:
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    return obj


def _liveness(state: dict[str, Any] | None) -> str:
    """Is the engine that wrote this state still running? (its pid, on this host)."""
    if not state or state.get("state") == "stopped":
        return "not running"
    pid = state.get("pid")
    if not pid:
        return "unknown"
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return f"not running: pid {pid} is gone (crashed or killed?)"
    return f"running (pid {pid})"


def _position_dict(p: Any, questions: dict[str, str]) -> dict[str, Any]:
    d: dict[str, Any] = asdict(p)
    d["outcome"] = p.outcome.name
    d["question"] = questions.get(p.market_id, "")
    return d


def cmd_status(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    storage = storage_from(settings)
    store = storage.store
    run = store.latest_run()
    if run is None:
        if args.json:
            print_json({"run": None})
        else:
            print("no runs yet: start one with `polyb0t run --source sim`")
        return 0
    state = _plain(store.engine_state(run.run_id))
    questions = {m.market_id: m.question for m in store.markets()}
    positions = [_position_dict(p, questions) for p in store.positions(run.run_id)]
    data = {
        "run": _plain(run),
        "engine": state,
        "process": _liveness(state),
        "positions": positions,
        "database": asdict(size := database_size(storage.db)),
    }
    if args.json:
        print_json(data)
        return 0
    con = console()
    ended = f"  ended {fmt_ts(run.ended_ts)} ({run.status})" if run.ended_ts is not None else ""
    con.print(
        f"[b]run[/b] {run.run_id}  mode {run.mode}  source {run.source}  "
        f"started {fmt_ts(run.started_ts)}{ended}"
    )
    if state:
        con.print(
            f"[b]engine[/b] {state['state']}"
            + (f" ({state['reason']})" if state.get("reason") else "")
            + f", {data['process']}, cycle {state.get('cycle', 0)}"
        )
        con.print(
            f"[b]cash[/b] {state['cash']:.2f}  [b]equity[/b] {state['equity']:.2f}  "
            f"[b]peak[/b] {state['peak_equity']:.2f}  [b]exposure[/b] {state['exposure']:.2f}"
        )
    con.print(f"[b]database[/b] {size.describe()}")
    if positions:
        t = Table("market", "token", "shares", "avg price", "cost", "realized")
        for p in positions:
            t.add_row(
                (p["question"] or p["market_id"])[:48],
                p["outcome"],
                f"{p['size']:.2f}",
                f"{p['avg_price']:.3f}",
                f"{p['size'] * p['avg_price']:.2f}",
                f"{p['realized_pnl']:+.2f}",
            )
        con.print(t)
    else:
        con.print("no open positions")
    return 0


# --- report --------------------------------------------------------------------------------


def cmd_report(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    store = storage_from(settings).store
    if args.today:
        since = day_start(time.time())
        rep = store.report(since_ts=since, until_ts=since + 86400.0)
        n = len(rep.runs)
        scope = f"today ({fmt_ts(since)[:10]} UTC, {n} run{'' if n == 1 else 's'})"
    else:
        run_id = args.run
        if run_id is None:
            run = store.latest_run()
            if run is None:
                if args.json:  # a script reads JSON whatever the answer
                    print_json({"scope": None})
                else:
                    print("no runs yet: start one with `polyb0t run --source sim`")
                return 0
            run_id = run.run_id
        elif store.run(run_id) is None:  # an empty report would read as a run that did nothing
            raise CliError(f"no run {run_id!r} in this database; `polyb0t status` shows the latest")
        rep = store.report(run_id=run_id)
        scope = f"run {run_id}"
    data = _plain(rep)
    data["pnl"] = rep.pnl
    if args.json:
        print_json({"scope": scope, **data})
        return 0
    con = console()
    con.print(f"[b]report[/b] {scope}")
    equity = (
        f"equity {_money(rep.start_equity)} -> {_money(rep.end_equity)}  "
        if len(rep.runs) <= 1
        else "PnL summed over the runs: "  # separate accounts: no one equity to show
    )
    con.print(
        f"  {equity}PnL {'-' if rep.pnl is None else f'{rep.pnl:+,.2f}'}  "
        f"realized {rep.realized_pnl:+,.2f}  fees {rep.fees:,.2f}"
    )
    con.print(
        f"  fills {rep.fills}  notional {rep.notional:,.2f}  signals {rep.signals}  "
        + "orders "
        + (", ".join(f"{k} {v}" for k, v in rep.orders.items()) or "0")
    )
    if rep.rejections_by_reason:
        t = Table("rejection reason", "signals")
        for reason, count in sorted(rep.rejections_by_reason.items(), key=lambda kv: -kv[1]):
            t.add_row(reason, str(count))
        con.print(t)
    else:
        con.print("  no rejected signals")
    return 0


def _money(v: float | None) -> str:
    return "-" if v is None else f"{v:,.2f}"


# --- intents -------------------------------------------------------------------------------


def _commands(args: argparse.Namespace) -> EngineCommands:
    settings = settings_from(args)
    storage = storage_from(settings)
    return EngineCommands(storage.intents, WallClock())


def _intent_dict(i: TradeIntent) -> dict[str, Any]:
    d = asdict(i)
    d["outcome"] = i.outcome.name
    d["side"] = i.side.value
    d["state"] = i.state.value
    d["cost"] = i.cost
    return d


def cmd_intents_list(args: argparse.Namespace) -> int:
    intents = _commands(args).list_intents(include_closed=args.all, limit=args.limit)
    if args.json:
        print_json([_intent_dict(i) for i in intents])
        return 0
    if not intents:
        print("no open intents" + ("" if args.all else " (--all shows closed ones)"))
        return 0
    now = time.time()
    # Plain columns: the id must survive any terminal width (it is what `approve` takes);
    # the question takes whatever width is left.
    rows = [
        (
            i.intent_id,
            i.state.value,
            f"{i.side.value} {i.outcome.name}",
            f"{i.limit_price:.3f}",
            f"{i.size:.2f}",
            f"{i.cost:.2f}",
            f"{i.edge:+.3f}",
            fmt_expiry(i.expires_ts - now) if i.state is IntentState.PENDING else "-",
            i.question or i.market_id,
        )
        for i in intents
    ]
    head = ("id", "state", "side", "price", "shares", "cost", "edge", "expires", "market")
    widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head) - 1)]
    room = max(shutil.get_terminal_size().columns - sum(widths) - 2 * len(widths), 12)
    for r in [head, *rows]:
        cells = [c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)]
        market = r[-1] if len(r[-1]) <= room else r[-1][: room - 1] + "…"
        print("  ".join([*cells, market]).rstrip())
    return 0


def cmd_intents_approve(args: argparse.Namespace) -> int:
    try:
        intent = _commands(args).approve(args.intent_id)
    except IntentError as exc:
        raise CliError(str(exc)) from None
    print(
        f"intent {intent.intent_id} {intent.state.value}: the engine re-checks the book and "
        "executes it at its next check"
    )
    return 0


def cmd_intents_reject(args: argparse.Namespace) -> int:
    try:
        intent = _commands(args).reject(args.intent_id, args.reason)
    except IntentError as exc:
        raise CliError(str(exc)) from None
    print(f"intent {intent.intent_id} {intent.state.value}")
    return 0
