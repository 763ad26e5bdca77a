"""Every flag of every command is checked by argparse and refused in one line naming the flag
and what it takes; output into a closed pipe ends quietly; a busy port is said plainly."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.config import SEED_MAX, load_settings
from polyb0t_tui.cli import build_parser, main
from polyb0t_tui.cli.backfill_args import POLYMARKET_START, max_days
from polyb0t_tui.runtime import open_storage

pytestmark = pytest.mark.usefixtures("cli_isolated")

# Options that take free text on purpose, and who checks it.
FREE_TEXT = {
    "--config": "load_settings: a missing or unreadable file is a ConfigError",
    "--host": "cmd_fake_exchange: loopback only",
    "--attach": "attach_target: ws:// URL, loopback unless --allow-remote",
    "--token-file": "read_token: must exist and be private",
}


def _options() -> list[tuple[str, argparse.Action]]:
    out: list[tuple[str, argparse.Action]] = []

    def walk(p: argparse.ArgumentParser, prefix: str) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{prefix} {name}".strip())
            elif action.nargs != 0 and not isinstance(action, argparse._HelpAction):
                out.append((prefix, action))

    walk(build_parser(), "")
    return out


def test_every_option_that_takes_a_value_is_checked() -> None:
    options = _options()
    assert len(options) > 30
    for command, action in options:
        name = action.option_strings[0] if action.option_strings else action.dest
        if name in FREE_TEXT or action.choices:
            continue
        assert action.type not in (None, int, float, str), f"{command} {name} is unchecked"


BAD = [
    (["run", "--seed", "-1"], "--seed", "from 0 to 2147483647"),
    (["run", "--seed", "99999999999999999999999"], "--seed", "from 0 to 2147483647"),
    (["diagnose-filters", "--seed", "-1"], "--seed", "from 0 to 2147483647"),
    (["fake-exchange", "--seed", str(SEED_MAX + 1)], "--seed", "from 0 to 2147483647"),
    (["run", "--duration", "nan"], "--duration", "a number > 0"),
    (["run", "--duration", "inf"], "--duration", "a number > 0"),
    (["run", "--speed", "nan"], "--speed", "a number > 0 or 'max'"),
    (["run", "--cycles", "1" * 5000], "--cycles", "a whole number > 0"),
    (["run", "--markets", "0"], "--markets", "from 1 to 100000"),
    (["run", "--replay-run", "a\nb"], "--replay-run", "one line of printable text"),
    (["fake-exchange", "--port", "65534"], "--port", "from 0 to 65533"),
    (["fake-exchange", "--speed", "nan"], "--speed", "a number > 0"),
    (["fake-exchange", "--markets", "-3"], "--markets", "from 1 to 100000"),
    (["diagnose-filters", "--examples", "-1"], "--examples", "from 0 to 100"),
    (["diagnose-filters", "--markets", "1e3"], "--markets", "a whole number"),
    (["backfill", "--days", "100000"], "--days", "Polymarket's history starts in June 2020"),
    (["backfill", "--days", "inf"], "--days", "a number > 0"),
    (["backfill", "--fidelity", "0"], "--fidelity", "from 1 to 10080"),
    (["backfill", "--concurrency", "1000"], "--concurrency", "from 1 to 32"),
    (["backfill", "--max-markets", "0"], "--max-markets", "from 1 to 1000000"),
    (["backfill", "--tag-id", "-5"], "--tag-id", "from 1 to 2147483647"),
    (["intents", "list", "--limit", "-1"], "--limit", "from 1 to 10000"),
    (["intents", "reject", "abcdef", "--reason", " "], "--reason", "printable text"),
    (["intents", "approve", "x" * 500], "ID", "1 to 200 characters"),
    (["report", "--run", "\x1b[2J"], "--run", "printable text"),
]


@pytest.mark.parametrize(("argv", "flag", "wanted"), BAD, ids=[" ".join(b[0])[:40] for b in BAD])
def test_a_bad_flag_value_is_one_line_naming_the_flag(
    argv: list[str], flag: str, wanted: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"argument {flag}: takes" in err and wanted in err, err
    assert len(err) < 300  # a 5,000-digit value is not repeated whole


def test_the_edges_of_each_range_are_accepted() -> None:
    parser = build_parser()
    assert parser.parse_args(["run", "--seed", str(SEED_MAX)]).seed == SEED_MAX
    assert parser.parse_args(["run", "--seed", "0"]).seed == 0
    days = max_days()
    assert parser.parse_args(["backfill", "--days", str(days)]).days == days
    with pytest.raises(SystemExit):
        parser.parse_args(["backfill", "--days", str(days + 1)])
    assert parser.parse_args(["fake-exchange", "--port", "65533"]).port == 65533


def test_the_backfill_window_reaches_back_to_polymarkets_start() -> None:
    assert max_days(POLYMARKET_START + 10 * 86_400 + 5) == 10
    assert max_days() > 365 * 5  # June 2020 to now


def test_the_largest_seed_runs_and_is_stored(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once an OverflowError from the runs table; now the flag's range is what it holds."""
    argv = ["run", "--daemon", "--seed", str(SEED_MAX), "--markets", "20", "--cycles", "1"]
    monkeypatch.setenv("POLYBOT_CONTROL__ENABLED", "false")
    assert main([*argv, "--speed", "max"]) == 0
    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run"]["seed"] == SEED_MAX


def _polyb0t(*args: str) -> list[str]:
    return [sys.executable, "-m", "polyb0t_tui", *args]


def _seed_a_run() -> None:
    storage = open_storage(load_settings(), create=True)
    storage.store.start_run(run_id="run1", started_ts=time.time(), mode="paper", source="sim")
    storage.db.close()


@pytest.mark.parametrize("args", [("config", "show"), ("status",)])  # print, and rich
def test_output_into_a_closed_pipe_exits_141_without_a_traceback(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    _seed_a_run()
    proc = subprocess.Popen(
        _polyb0t(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first write
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert err == b""


@pytest.mark.parametrize("args", [("config", "show"), ("report", "--json")])
def test_piping_into_head_is_quiet(tmp_path: Path, args: tuple[str, ...]) -> None:
    _seed_a_run()
    shell = " ".join(_polyb0t(*args)) + " | head -1"
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {shell}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        timeout=60,
    )
    assert done.stdout.count("\n") == 1 and done.stdout.strip()
    assert done.stderr == ""
    assert done.returncode in (0, 141)  # 141 only if the pipe closed before the last write


def test_fake_exchange_on_a_port_in_use_says_which_and_what_to_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["fake-exchange", "--port", str(port), "--markets", "5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"ports {port}-{port + 2}" in err and "pick another --port" in err
