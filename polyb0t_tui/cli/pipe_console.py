"""The rich console the commands print tables with, ending like every command on a closed pipe.

Its own module so that only the commands that draw tables load rich (`polyb0t --help`
does not: see `polyb0t_tui.cli.common`).
"""

from __future__ import annotations

from rich.console import Console


class PipeConsole(Console):
    """rich exits 1 on its own when stdout is a closed pipe; raising lets `main` end every
    command the same way (see `polyb0t_tui.cli.main`)."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def console() -> Console:
    return PipeConsole()
