"""The `polyb0t` command line: one parser, one small module per group of commands.

The parser is built from light modules only (`common` and the `*_args` modules, one per
group): `polyb0t --help` and a bad flag are answered without importing what the commands
use. A command's module (`run`, `inspect`, ...) is imported when it runs (`LazyCommand`),
and only the console's paths import Textual: `polyb0t run --daemon` and every inspection
command start without loading the UI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import cast

from polyb0t_tui.cli import (
    admin_args,
    backfill_args,
    fake_args,
    inspect_args,
    run_args,
    tui_args,
)
from polyb0t_tui.cli.common import CliError, Parser, quiet_broken_pipe


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="polyb0t",
        description="Terminal trading console for Polymarket: paper trading on a simulated "
        "exchange, approval-gated live trading, and tools to inspect both.",
    )
    # Sub-parsers are `Parser`s too (argparse makes them of the parent's class).
    sub = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", metavar="COMMAND", required=True),
    )
    run_args.register(sub)
    inspect_args.register(sub)
    admin_args.register(sub)
    tui_args.register(sub)
    fake_args.register(sub)
    backfill_args.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every failure a person can cause ends in one line on stderr.

    Exit status: 0 done, 1 the command failed (its line says why), 2 bad flags or settings,
    130 interrupted, 141 stdout closed early (`| head`; see `quiet_broken_pipe`).
    """
    try:
        args = build_parser().parse_args(argv)
        code = _run_command(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the flush at exit
        return code
    except BrokenPipeError:
        return quiet_broken_pipe()
    except CliError as exc:
        print(f"polyb0t: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


def _run_command(args: argparse.Namespace) -> int:
    """The parsed command, with bad settings said in one line (exit 2).

    `engine.config` (pydantic) is imported here, after parsing: every command reads the
    settings, but `--help` and a bad flag need none of it.
    """
    from engine.config import ConfigError

    try:
        code: int = args.func(args)
    except ConfigError as exc:
        print(f"polyb0t: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
