"""`polyb0t run`: the engine, headless (--daemon) or under the trading console.

Without --daemon the console opens on an engine in this process (Textual is imported only
on that path, so the daemon never loads it); quitting the console stops the engine. With
--daemon, SIGINT/SIGTERM set a stop event; the engine finishes the step it is on
(milliseconds) and shuts down cleanly, recording the run's end.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

from engine.clock import SimClock
from engine.config import Settings, secret_values
from engine.control.server import ControlServer, ControlStartError
from engine.logs import RedactSecrets, setup_logging
from engine.run.step_result import RunSummary
from engine.sources.base import SourceStartError
from engine.storage.auto_prune import AutoPrune
from engine.storage.data_dir_lock import DataDirBusy, DataDirLock
from polyb0t_tui.cli.common import (
    CliError,
    require_valid_keys,
    settings_from,
    storage_from,
)
from polyb0t_tui.runtime import Runtime, StartupError, build_runtime

log = logging.getLogger("polyb0t.cli")

# The harness's interpreter switch interval (Python's default is 5 ms). Its engine step never
# waits, so the database writer thread, which gives up the GIL around every SQLite call,
# waited up to the whole interval to take it back each time: at 10,000 markets the two threads
# ran one after the other (a step 20 ms instead of 13).
HARNESS_SWITCH_SECONDS = 0.0005


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.source:
        out["source"] = args.source
    if args.record:
        out["record"] = True
    if args.replay_run:
        out["replay_run"] = args.replay_run
    sim: dict[str, Any] = {}
    if args.seed is not None:
        sim["seed"] = args.seed
    if args.markets is not None:
        sim["markets"] = args.markets
    if sim:
        out["sim"] = sim
    speed = getattr(args, "speed", "unset")
    if speed != "unset" and speed is not None:
        out["speed"] = speed
    return out


def cmd_run(args: argparse.Namespace) -> int:
    settings = settings_from(args, **_overrides(args))
    speed = getattr(args, "speed", settings.speed)
    if not args.daemon:
        return _run_console(settings, args, speed)
    setup_logging(settings.log_level, settings.log_file, secret_values(settings))
    try:
        summary = asyncio.run(_run(settings, args, speed))
    except (StartupError, SourceStartError) as exc:
        raise CliError(str(exc), code=2) from None
    print(
        f"run {summary.run_id}: {summary.cycles} cycles, {summary.signals} signals, "
        f"{summary.fills} fills, equity {summary.equity:.2f} ({summary.stopped_by})"
    )
    return 0


async def _run(settings: Settings, args: argparse.Namespace, speed: float | None) -> RunSummary:
    with _data_dir_lock(settings):
        return await _run_locked(settings, args, speed)


def _data_dir_lock(settings: Settings) -> DataDirLock:
    """Held for the whole run, before anything is written: one engine per data dir."""
    lock = DataDirLock(settings.data_dir)
    try:
        lock.acquire()
    except DataDirBusy as exc:
        raise CliError(str(exc), code=2) from None
    except OSError as exc:
        raise CliError(f"cannot lock data dir {settings.data_dir}: {exc}", code=2) from None
    return lock


async def _run_locked(
    settings: Settings, args: argparse.Namespace, speed: float | None
) -> RunSummary:
    storage = storage_from(settings, create=True)
    rt = build_runtime(settings, live=args.live, speed=speed, storage=storage)
    rt.engine.freeze_gc = True  # a long-lived process: see `Engine.freeze_gc`
    # Headless, unpaced, simulated clock: the fast harness (see `Engine.inline_steps`).
    rt.engine.inline_steps = args.daemon and speed is None and isinstance(rt.clock, SimClock)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    mode = rt.mode.value + (" (dry run)" if args.live and settings.live.dry_run else "")
    log.info(
        "polyb0t %s, source %s, data %s, speed %s",
        mode,
        settings.source,
        settings.data_dir,
        "max" if speed is None else f"{speed:g}x",
    )
    switch = sys.getswitchinterval()
    if rt.engine.inline_steps:
        sys.setswitchinterval(HARNESS_SWITCH_SECONDS)
    try:
        if args.daemon:
            async with AutoPrune(rt.storage.store, settings.retention, rt.clock.now):
                return await _run_daemon(rt, stop, args)
        return await rt.engine.run(stop, cycles=args.cycles, duration=args.duration)
    finally:
        sys.setswitchinterval(switch)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _run_daemon(rt: Runtime, stop: asyncio.Event, args: argparse.Namespace) -> RunSummary:
    """The headless engine with its control socket beside it (`polyb0t tui --attach`).

    The socket starts before the engine so a console can watch from the first step, and
    closes after it stops. Attached consoles get the engine's log lines, redacted like the
    daemon's own log.
    """
    settings = rt.settings
    if not settings.control.enabled:
        rt.view.watched = lambda: False  # no console can attach: build no view
        return await rt.engine.run(stop, cycles=args.cycles, duration=args.duration)
    feed = rt.view.log_handler()
    feed.addFilter(RedactSecrets(secret_values(settings)))
    root = logging.getLogger("polyb0t")
    root.addHandler(feed)
    server = ControlServer(rt.link, settings.control, settings.data_dir)
    try:
        try:
            await server.start()
        except ControlStartError as exc:  # nothing is on record yet: the run never began
            raise StartupError(str(exc)) from None
        try:
            return await rt.engine.run(stop, cycles=args.cycles, duration=args.duration)
        finally:
            await server.close()
    finally:
        root.removeHandler(feed)


def _run_console(settings: Settings, args: argparse.Namespace, speed: float | None) -> int:
    """The console on an in-process engine; prints the run summary after quitting."""
    require_valid_keys(args, settings)
    if not (sys.stdin.isatty() and sys.stderr.isatty()):  # Textual draws on stderr
        raise CliError("the console needs a terminal; use --daemon to run headless", code=2)
    with _data_dir_lock(settings):
        return _run_console_locked(settings, args, speed)


def _run_console_locked(settings: Settings, args: argparse.Namespace, speed: float | None) -> int:
    storage = storage_from(settings, create=True)
    try:
        rt = build_runtime(settings, live=args.live, speed=speed, storage=storage)
    except StartupError as exc:
        raise CliError(str(exc), code=2) from None
    rt.engine.freeze_gc = True  # a long-lived process: see `Engine.freeze_gc`
    # Headless, unpaced, simulated clock: the fast harness (see `Engine.inline_steps`).
    rt.engine.inline_steps = args.daemon and speed is None and isinstance(rt.clock, SimClock)
    setup_logging(settings.log_level, settings.log_file, secret_values(settings))
    _log_to_view(rt.view.log_handler())
    from polyb0t_tui.app import make_app  # Textual is loaded here and only here

    app = make_app(
        settings,
        rt.link,
        mode="local",
        engine=rt.engine,
        cycles=args.cycles,
        duration=args.duration,
        handle_signals=True,
    )
    summary = app.run()
    if isinstance(summary, RunSummary):
        print(
            f"run {summary.run_id}: {summary.cycles} cycles, {summary.signals} signals, "
            f"{summary.fills} fills, equity {summary.equity:.2f} ({summary.stopped_by})"
        )
    return 0


def _log_to_view(handler: logging.Handler) -> None:
    """Engine logs go to the console's log pane (and the log file), never to the terminal
    the console draws on; the secret filter moves over with them."""
    root = logging.getLogger("polyb0t")
    for h in list(root.handlers):
        if type(h) is logging.StreamHandler:
            root.removeHandler(h)
            for f in h.filters:
                handler.addFilter(f)
    root.addHandler(handler)
