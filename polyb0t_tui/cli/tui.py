"""`polyb0t tui --attach [URL]`: the console on an engine that runs in a daemon.

The URL and token come from the daemon's data dir (`control.url`, `control.token`) unless
given. Everything that can go wrong before the screen opens (no daemon, a wrong or unsafe
token, a URL beyond loopback) is checked first and said in one line, because a full-screen
app that dies at start-up hides its error. Textual is imported only once attached.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from engine.config import Settings
from engine.control.files import (
    ControlFileError,
    is_loopback_host,
    read_token,
    read_url,
    token_path,
    url_host,
    url_path,
)
from polyb0t_tui.cli.common import CliError, require_valid_keys, settings_from
from polyb0t_tui.remote_link import AttachError, RemoteLink


def cmd_tui(args: argparse.Namespace) -> int:
    if args.attach is None:
        raise CliError(
            "polyb0t tui needs --attach [URL] (a running `polyb0t run --daemon`); "
            "`polyb0t run` opens the console with the engine in this process",
            code=2,
        )
    settings = settings_from(args)
    require_valid_keys(args, settings)  # before the screen opens: a full-screen app hides errors
    url, token = attach_target(settings, args.attach, args.token_file, args.allow_remote)
    return asyncio.run(_attached(settings, url, token))


def attach_target(
    settings: Settings, url: str | None, token_file: str | None, allow_remote: bool
) -> tuple[str, str]:
    """The URL and token to attach with, checked; raises `CliError` saying what is wrong."""
    try:
        url = url or read_url(url_path(settings.data_dir))
        host = url_host(url)
        if not allow_remote and not is_loopback_host(host):
            raise CliError(
                f"{url} is not a loopback address: the token would cross the network "
                "unencrypted. Use an SSH tunnel to the daemon's 127.0.0.1 port, or pass "
                "--allow-remote"
            )
        token = read_token(Path(token_file) if token_file else token_path(settings.data_dir))
    except ControlFileError as exc:
        raise CliError(str(exc)) from None
    return url, token


async def _attached(settings: Settings, url: str, token: str) -> int:
    try:
        link = await RemoteLink.connect(url, token)
    except AttachError as exc:
        raise CliError(str(exc)) from None
    try:
        # SIGTERM/SIGHUP (a dropped SSH session) quit the console cleanly.
        app = _make_app()(settings, link, mode="attached", handle_signals=True)
        await app.run_async()
        code = getattr(app, "return_code", 0)
        return code if isinstance(code, int) else 0
    finally:
        await link.close()


def _make_app() -> Any:
    """The app factory, imported only now: everything before this runs without Textual."""
    try:
        from polyb0t_tui.app import make_app
    except ModuleNotFoundError as exc:
        if exc.name != "polyb0t_tui.app":
            raise
        raise CliError("this build has no console yet (polyb0t_tui.app is missing)") from None
    return make_app
