"""The `polyb0t` command line: one parser, one small module per group of commands.

Nothing here imports Textual at module level: `polyb0t run --daemon` and every inspection
command must start without loading the UI.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engine.config import ConfigError
from polyb0t_tui.cli import admin, backfill, fake, inspect, run, tui
from polyb0t_tui.cli.common import CliError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="polyb0t",
        description="Terminal trading console for Polymarket: paper trading on a simulated "
        "exchange, approval-gated live trading, and tools to inspect both.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run.register(sub)
    inspect.register(sub)
    admin.register(sub)
    tui.register(sub)
    fake.register(sub)
    backfill.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
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
