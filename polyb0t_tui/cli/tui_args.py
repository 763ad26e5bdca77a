"""The flags of `polyb0t tui` (the command is `polyb0t_tui.cli.tui`)."""

from __future__ import annotations

import argparse

from polyb0t_tui.cli.common import LazyCommand, config_parent


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "tui",
        parents=[config_parent()],
        help="open the console on a running daemon (--attach)",
        description="Open the trading console on an engine that runs as `polyb0t run "
        "--daemon`: its state is streamed over the control socket and your commands "
        "(approve, reject, pause, kill) are sent back. Several consoles may attach at once.",
    )
    p.add_argument(
        "--attach",
        nargs="?",
        const="",
        metavar="URL",
        help="attach to the daemon at URL (default: the URL in <data_dir>/control.url)",
    )
    p.add_argument(
        "--token-file",
        metavar="FILE",
        help="the daemon's token (default: <data_dir>/control.token)",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a URL beyond loopback (ws:// sends the token unencrypted)",
    )
    p.set_defaults(func=LazyCommand("polyb0t_tui.cli.tui", "cmd_tui"))
