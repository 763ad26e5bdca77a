"""The `polyb0t` command line: one parser, one small module per group of commands.

Nothing here imports Textual at module level: `polyb0t run --daemon` and every inspection
command must start without loading the UI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import cast

from engine.config import ConfigError
from polyb0t_tui.cli import admin, backfill, fake, inspect, run, tui
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
    run.register(sub)
    inspect.register(sub)
    admin.register(sub)
    tui.register(sub)
    fake.register(sub)
    backfill.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every failure a person can cause ends in one line on stderr.

    Exit status: 0 done, 1 the command failed (its line says why), 2 bad flags or settings,
    130 interrupted, 141 stdout closed early (`| head`; see `quiet_broken_pipe`).
    """
    try:
        args = build_parser().parse_args(argv)
        code: int = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the flush at exit
        return code
    except BrokenPipeError:
        return quiet_broken_pipe()
    except ConfigError as exc:
        print(f"polyb0t: {exc}", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"polyb0t: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
