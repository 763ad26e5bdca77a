"""`polyb0t backfill`: Polymarket price history and resolved markets into the database.

The job is `engine.sources.polymarket.backfill.Backfill`; this module only turns the options
(parsed as `polyb0t_tui.cli.backfill_args` says) into its config, shows progress and prints the
summary. Progress goes to stderr: a `rich` bar with counts and ETA when stderr is a
terminal, else a plain line every few seconds (logs and CI stay readable). The summary goes
to stdout. Ctrl-C cancels the job, whose finished chunks are already committed; the same
command then resumes where it stopped.

Exit status: 0 when every market was fetched or already up to date, 1 when some failed (run
again to retry them), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from engine.config import mask_url
from engine.sources.polymarket.backfill import (
    RESOLVED_FIDELITY,
    Backfill,
    BackfillConfig,
    BackfillListener,
    BackfillStats,
    MarketResult,
)
from polyb0t_tui.cli.common import (
    CliError,
    fmt_ts,
    print_json,
    settings_from,
    storage_from,
)

PLAIN_EVERY_SECONDS = 5.0
ERRORS_SHOWN = 5


def _config(args: argparse.Namespace) -> BackfillConfig:
    both = not (args.closed or args.active)
    return BackfillConfig(
        days=args.days,
        fidelity=int(args.fidelity),
        max_markets=None if args.max_markets is None else int(args.max_markets),
        closed=args.closed or both,
        active=args.active or both,
        restart=args.restart,
        concurrency=int(args.concurrency),
        tag_id=args.tag_id,
    )


def cmd_backfill(args: argparse.Namespace) -> int:
    config = _config(args)
    settings = settings_from(args)
    storage = storage_from(settings, create=True)
    job = Backfill(storage.store, settings.polymarket, config)
    reporter = progress_reporter(sys.stderr)
    job.listener = reporter
    try:
        with reporter:
            asyncio.run(job.run())
    except KeyboardInterrupt:
        job.stats.interrupted = True
    finally:
        storage.db.close()
    stats = job.stats
    if args.json:
        data = dataclasses.asdict(stats)
        data.pop("started")  # a monotonic reading: meaningless outside this process
        print_json({**data, "elapsed": round(stats.elapsed, 3)})
    else:
        print(summary(stats, config, mask_url(settings.db_url)))
    if stats.interrupted:
        return 130
    problems = []
    if stats.failed:
        problems.append(f"{stats.failed} market(s) failed")
    if stats.listings_cut:
        problems.append(f"{stats.listings_cut} Gamma listing(s) stopped early")
    if problems:
        raise CliError(f"{' and '.join(problems)}; run the same command again to retry")
    return 0


# --- progress --------------------------------------------------------------------------------


class Reporter(BackfillListener):
    """A listener that is also a context manager (a live display starts and stops)."""

    def __enter__(self) -> Reporter:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


def progress_reporter(stream: TextIO) -> Reporter:
    """A rich bar when `stream` is a terminal, else plain periodic lines."""
    if stream.isatty():
        return RichReporter(Console(file=stream))
    return PlainReporter(stream)


class RichReporter(Reporter):
    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> Reporter:
        self.progress.start()
        self.task = self.progress.add_task("listing markets", total=None, detail="")
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.stop()

    def _update(self, detail: str, completed: int | None = None) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=completed, detail=detail)

    def listing(self, stats: BackfillStats, found: int) -> None:
        self._update(detail=f"{found} found")

    def started(self, stats: BackfillStats) -> None:
        if self.task is not None:
            self.progress.reset(self.task, total=stats.total, description="markets", detail="")

    def market_done(self, stats: BackfillStats, result: MarketResult) -> None:
        self._update(completed=stats.done, detail=_counts(stats))

    def warn(self, message: str) -> None:
        self.progress.console.print(Text(f"warning: {message}", style="yellow"))


class PlainReporter(Reporter):
    """One line at most every `every` seconds, and at the end of listing and of the run."""

    def __init__(
        self,
        stream: TextIO,
        every: float = PLAIN_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.every = every
        self.clock = clock
        self._last = -float("inf")

    def _line(self, text: str, force: bool = False) -> None:
        now = self.clock()
        if force or now - self._last >= self.every:
            self._last = now
            print(f"backfill: {text}", file=self.stream, flush=True)

    def listing(self, stats: BackfillStats, found: int) -> None:
        self._line(f"listing markets: {found} found")

    def started(self, stats: BackfillStats) -> None:
        self._line(f"{stats.total} markets to go", force=True)

    def market_done(self, stats: BackfillStats, result: MarketResult) -> None:
        pct = 100.0 * stats.done / stats.total if stats.total else 100.0
        eta = _eta(stats)
        left = f", about {_duration(eta)} left" if eta is not None and eta > 0 else ""
        self._line(
            f"{stats.done}/{stats.total} markets ({pct:.0f}%), {_counts(stats)}{left}",
            force=stats.done == stats.total,
        )

    def warn(self, message: str) -> None:
        print(f"backfill: warning: {message}", file=self.stream, flush=True)


def _counts(stats: BackfillStats) -> str:
    failed = f", {stats.failed} failed" if stats.failed else ""
    return f"{stats.points} points{failed}"


def _eta(stats: BackfillStats) -> float | None:
    if not stats.done or not stats.total:
        return None
    return stats.elapsed / stats.done * (stats.total - stats.done)


def _duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


# --- summary ---------------------------------------------------------------------------------


def summary(stats: BackfillStats, config: BackfillConfig, db: str) -> str:
    """What the run did, in a few lines for a person."""
    kinds = " and ".join(
        k for k, on in (("resolved", config.closed), ("active", config.active)) if on
    )
    lines = [
        f"window    {fmt_ts(stats.window_start)} .. {fmt_ts(stats.window_end)} UTC, "
        f"fidelity {config.fidelity} min",
        f"markets   {stats.listed} listed ({kinds}): {stats.resolved} resolved, stored with "
        "payouts"
        + (f"; {stats.not_binary} not binary, skipped" if stats.not_binary else "")
        + (f"; {stats.unstored} without dates, history only" if stats.unstored else ""),
        f"history   {stats.fetched} fetched ({stats.empty} with no points), "
        f"{stats.up_to_date} already up to date, {stats.failed} failed; "
        f"{stats.points} points from {stats.requests} requests",
    ]
    if stats.coarse:
        lines.append(
            f"coarse    {stats.coarse} resolved market(s) only answered at "
            f"{RESOLVED_FIDELITY} min fidelity"
        )
    lines.append(f"database  {db} (tables price_history, backfill_progress, markets)")
    lines.append(f"took      {_duration(stats.elapsed)}")
    for err in stats.errors[:ERRORS_SHOWN]:
        lines.append(f"error     {err}")
    if len(stats.errors) > ERRORS_SHOWN:
        lines.append(f"error     ... and {len(stats.errors) - ERRORS_SHOWN} more")
    if stats.interrupted:
        where = (
            f"after {stats.done} of {stats.total} markets"
            if stats.total
            else "while listing markets"
        )
        lines.append(
            f"interrupted {where}; what was fetched is saved: run the same command again to resume"
        )
    return "\n".join(lines)
