"""Set-up and diagnosis commands: `db`, `config`, `doctor`, `diagnose-filters`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from engine.config import ConfigError, Settings, mask_url, masked_dump, resolve_config_path
from engine.decision.universe import UniverseFilter
from engine.file_modes import PRIVATE_DIR, open_to_others
from engine.state.market_state import MarketState
from engine.storage import (
    Database,
    DatabaseMissing,
    NotADatabase,
    StorageError,
)
from polyb0t_tui.cli.common import (
    CliError,
    print_json,
    require_valid_keys,
    settings_from,
    storage_from,
)
from polyb0t_tui.cli.pipe_console import console
from polyb0t_tui.runtime import StartupError, build_source, sim_start

if TYPE_CHECKING:
    from engine.execution.live_checks import CheckResult

# --- db ------------------------------------------------------------------------------------


def cmd_db_init(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    storage = storage_from(settings, create=True)
    print(f"database ready: {mask_url(settings.db_url)} (schema v{storage.db.schema_version()})")
    return 0


def cmd_db_reset(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    url = mask_url(settings.db_url)
    question = f"Delete ALL data in {url}?"
    if _not_a_database(settings):
        question = f"{url} is not a readable database. Replace the file with an empty one?"
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError("refusing to reset without confirmation: pass --yes", code=2)
        answer = input(f"{question} Type 'yes' to confirm: ")
        if answer.strip().lower() != "yes":
            print("aborted; nothing changed")
            return 1
    try:
        with Database(settings.db_url) as db:
            db.reset()
    except StorageError as exc:
        raise CliError(str(exc)) from None
    print(f"database reset: {url}")
    return 0


def _not_a_database(settings: Settings) -> bool:
    """Is there a file at the database path that SQLite cannot read? (asks nothing else:
    a missing or unreachable database is for the reset itself to report)."""
    try:
        with Database(settings.db_url, create=False) as db:
            db.check()
    except NotADatabase:
        return True
    except StorageError:
        return False
    return False


# --- config --------------------------------------------------------------------------------


def cmd_config_validate(args: argparse.Namespace) -> int:
    path = resolve_config_path(getattr(args, "config", None))
    settings = settings_from(args)  # raises ConfigError -> one line per problem, exit 2
    require_valid_keys(args, settings)  # the console's keymap, without loading the console
    print(f"configuration OK ({path or 'defaults + environment'})")
    return 0


def cmd_config_show(args: argparse.Namespace) -> int:
    data = masked_dump(settings_from(args))
    if args.json:
        print_json(data)
        return 0
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    for k, v in scalars.items():
        print(f"{k} = {_toml_value(v)}")
    for section, values in data.items():
        if isinstance(values, dict):
            print(f"\n[{section}]")
            for k, v in values.items():
                print(f"{k} = {_toml_value(v)}")
    return 0


def _toml_value(v: object) -> str:
    if v is None:
        return "# (unset)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return str(v)


# --- doctor --------------------------------------------------------------------------------

Check = Callable[[Settings], str]


def _check_config(args: argparse.Namespace) -> tuple[Settings | None, str, bool]:
    path = resolve_config_path(getattr(args, "config", None))
    try:
        settings = settings_from(args)
        require_valid_keys(args, settings)
    except ConfigError as exc:
        return None, "; ".join(exc.problems) + " -> fix the file or environment", False
    if path is not None:
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            return settings, f"cannot read {path}: {exc}", False
    return settings, f"valid ({path or 'defaults + environment'})", True


class _Warn(Exception):
    """A check that passed with something to fix: shown as WARN, does not fail the doctor."""


def _check_data_dir(settings: Settings) -> str:
    """Writable, and private; a missing one is fine (the first run creates it, 0700) as
    long as it can be created: the doctor itself creates nothing."""
    d = settings.data_dir
    if not d.exists():
        parent = _existing_parent(d)
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OSError(f"{d} does not exist and {parent} is not writable")
        return f"{d} does not exist yet; `polyb0t run` or `polyb0t db init` creates it (0700)"
    with tempfile.NamedTemporaryFile(dir=d, prefix=".doctor-", delete=True):
        pass
    loose = open_to_others(d, PRIVATE_DIR)
    if loose:
        raise _Warn(f"{d.resolve()} writable, but {loose}")
    return f"{d.resolve()} writable"


def _existing_parent(path: Path) -> Path:
    for parent in path.absolute().parents:
        if parent.exists():
            return parent
    return Path("/")


def _check_database(settings: Settings) -> str:
    with Database(settings.db_url, create=False) as db:  # as readers open it: creates nothing
        db.require_ready()
        detail = f"{mask_url(settings.db_url)} schema v{db.schema_version()}"
        loose = db.files_open_to_others()
    if loose:
        raise _Warn(f"{detail}, but {'; '.join(loose)}")
    return detail


def _check_source(settings: Settings) -> str:
    start = sim_start(settings)
    src = build_source(
        settings.model_copy(
            update={
                "sim": settings.sim.model_copy(update={"markets": min(settings.sim.markets, 50)})
            }
        ),
        start,
    )
    asyncio.run(src.start())
    markets = src.discover()
    events = src.poll(start)
    asyncio.run(src.stop())
    if not markets or not events:
        raise RuntimeError("source produced no markets or books")
    return f"{settings.source}: {len(markets)} markets, {len(events)} events on first poll"


def _check_clock(settings: Settings) -> str:
    now = time.time()
    if now < 1_700_000_000:  # before Nov 2023: the system clock is wrong
        raise RuntimeError(f"system clock reads {time.ctime(now)}; fix NTP")
    return f"system clock {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(now))} UTC"


_HINTS = {
    "data dir": "set data_dir (POLYBOT_DATA_DIR) to a writable directory",
    "database": "run `polyb0t db init`, or check database_url",
    "source": "use --source sim until the Polymarket connectivity work lands",
    "clock": "synchronise the system clock",
}
# Errors whose message already says what to run.
_SAYS_WHAT_TO_DO = (DatabaseMissing, NotADatabase)


def cmd_doctor(args: argparse.Namespace) -> int:
    con = console()
    settings, detail, ok = _check_config(args)
    results: list[tuple[str, bool, str]] = [("config", ok, detail)]
    checks: list[tuple[str, Check]] = [
        ("data dir", _check_data_dir),
        ("database", _check_database),
        ("source", _check_source),
        ("clock", _check_clock),
    ]
    warned: set[str] = set()
    for name, check in checks:
        if settings is None:
            results.append((name, False, "skipped: configuration invalid"))
            continue
        try:
            results.append((name, True, check(settings)))
        except _Warn as exc:
            results.append((name, True, str(exc)))
            warned.add(name)
        except _SAYS_WHAT_TO_DO as exc:
            results.append((name, False, str(exc)))
        except (CliError, StorageError, StartupError, OSError, RuntimeError, ValueError) as exc:
            results.append((name, False, f"{exc} -> {_HINTS[name]}"))
    labels = {
        name: ("WARN" if name in warned else "PASS" if passed else "FAIL")
        for name, passed, _ in results
    }
    if settings is not None and (args.live or not settings.live.dry_run):
        for name, r in _live_checks(settings).items():
            results.append(
                (
                    f"live: {name}",
                    r.ok is True,
                    f"{r.detail} -> {r.hint}" if r.hint and r.ok is not True else r.detail,
                )
            )
            labels[f"live: {name}"] = "PASS" if r.ok is True else r.label
    colours = {"PASS": "green", "FAIL": "red", "WARN": "yellow", "UNKNOWN": "yellow"}
    t = Table("check", "result", "detail")
    for name, _, text in results:
        label = labels[name]
        t.add_row(name, f"[{colours[label]}]{label}[/{colours[label]}]", text)
    con.print(t)
    return 0 if all(p for _, p, _ in results) else 1


def _live_checks(settings: Settings) -> dict[str, CheckResult]:
    """The exchange-facing checks (network, in this thread: the doctor has no engine)."""
    from engine.execution.live_checks import run_live_checks
    from polyb0t_tui.runtime import clob_settings

    return run_live_checks(settings.live, clob_settings(settings))


# --- diagnose-filters ----------------------------------------------------------------------


def cmd_diagnose_filters(args: argparse.Namespace) -> int:
    sim: dict[str, object] = {}
    if args.seed is not None:
        sim["seed"] = args.seed
    if args.markets is not None:
        sim["markets"] = args.markets
    settings = settings_from(args, **({"sim": sim} if sim else {}))
    start = sim_start(settings)
    try:
        src = build_source(settings, start)
    except StartupError as exc:
        raise CliError(str(exc), code=2) from None
    asyncio.run(src.start())
    state = MarketState(depth=max(settings.sim.book_levels, settings.features.depth_levels))
    for m in src.discover():
        state.add_market(m)
    state.apply(src.poll(start))
    asyncio.run(src.stop())
    uf = UniverseFilter(settings.universe, settings.features.depth_levels)
    reports = uf.diagnose(state, start, examples=args.examples)
    eligible = int(uf.eligible(state, start).sum())
    if args.json:
        print_json(
            {"markets": state.n, "eligible": eligible, "rules": [asdict(r) for r in reports]}
        )
        return 0
    con = console()
    con.print(f"{state.n} markets from {settings.source}; {eligible} pass every rule")
    t = Table("rule", "keeps", "fails alone", "removed (in order)", "examples removed")
    for r in reports:
        t.add_row(r.name, r.describe, str(r.failing), str(r.removed), "\n".join(r.examples))
    con.print(t)
    return 0
