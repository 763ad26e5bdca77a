"""The command line: help everywhere, clear errors, and each command doing its job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.config import load_settings
from engine.models import IntentState, Outcome, Side, TradeIntent
from engine.storage.schema import MIGRATIONS
from fake_polymarket import ThreadedFakePolymarket
from polyb0t_tui.cli import build_parser, main
from polyb0t_tui.runtime import open_storage
from tests.fake_exchange_fixture import fake_polymarket_thread_fixture  # noqa: F401

pytestmark = pytest.mark.usefixtures("cli_isolated")


def _all_commands() -> list[list[str]]:
    parser = build_parser()
    out: list[list[str]] = []

    def walk(p: object, prefix: list[str]) -> None:
        for action in getattr(p, "_actions", []):
            choices = getattr(action, "choices", None)
            if isinstance(choices, dict):
                for name, sub in choices.items():
                    out.append([*prefix, name])
                    walk(sub, [*prefix, name])

    walk(parser, [])
    return out


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = _all_commands()
    names = {" ".join(c) for c in commands}
    for expected in (
        "run",
        "status",
        "report",
        "doctor",
        "diagnose-filters",
        "intents list",
        "intents approve",
        "intents reject",
        "db init",
        "db reset",
        "config validate",
        "config show",
    ):
        assert expected in names
    for cmd in commands:
        with pytest.raises(SystemExit) as info:
            main([*cmd, "--help"])
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert "usage: polyb0t" in out and len(out.splitlines()) > 3, cmd


def test_bad_config_exits_2_with_one_line_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[risk]\nkelly_fraction = 3\n[strategy]\nedge_threshold = -1\n")
    assert main(["config", "validate", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "risk.kelly_fraction: got 3" in err
    assert "strategy.edge_threshold: got -1" in err
    assert "Traceback" not in err


def test_config_show_masks_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POLYBOT_LIVE__API_SECRET", "s3cr3t-value")
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert "s3cr3t-value" not in out and 'api_secret = "********"' in out
    assert main(["config", "show", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["live"]["api_secret"] == "********"


def test_bad_flag_values_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["run", "--speed", "fast"], ["run", "--cycles", "0"], ["run", "--speed", "-1"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    assert "--speed: takes a number > 0 or 'max'" in capsys.readouterr().err


def test_db_init_is_idempotent_and_reset_needs_confirmation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "init"]) == 0
    assert main(["db", "init"]) == 0
    assert f"schema v{MIGRATIONS[-1].version}" in capsys.readouterr().out
    assert (tmp_path / "data" / "polybot.db").is_file()
    assert main(["db", "reset"]) == 2  # no terminal to ask on, no --yes
    assert "pass --yes" in capsys.readouterr().err
    assert main(["db", "reset", "--yes"]) == 0


def test_status_on_a_fresh_machine_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert "polyb0t db init" in err or "polyb0t run" in err
    assert main(["db", "init"]) == 0
    assert main(["status"]) == 0
    assert "no runs yet" in capsys.readouterr().out
    assert main(["report", "--run", "nope"]) == 1
    assert "no run 'nope' in this database" in capsys.readouterr().err


def _seed_intents(now: float) -> list[str]:
    storage = open_storage(load_settings(), create=True)
    intents = [
        TradeIntent(
            intent_id=f"run1-{i:07d}",
            created_ts=now,
            expires_ts=now + 300 if i < 2 else now - 1,
            market_id=f"0x{i:064x}",
            token_id=str(i),
            outcome=Outcome.YES,
            side=Side.BUY,
            size=10.0,
            limit_price=0.4,
            p_model=0.5,
            edge=0.08,
            question=f"Q{i}?",
        )
        for i in range(3)
    ]
    storage.store.start_run(run_id="run1", started_ts=now, mode="live", source="sim")
    storage.intents.create(intents, "run1")
    return [i.intent_id for i in intents]


def test_intents_list_approve_reject_from_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    import time

    a, b, expired = _seed_intents(time.time())
    assert main(["intents", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {i["intent_id"] for i in listed} == {a, b, expired}
    assert main(["intents", "approve", a]) == 0
    assert "APPROVED" in capsys.readouterr().out
    assert main(["intents", "approve", a]) == 1  # twice: the second is refused, clearly
    assert "it is APPROVED, not PENDING" in capsys.readouterr().err
    assert main(["intents", "reject", b, "--reason", "too big"]) == 0
    assert main(["intents", "approve", expired]) == 1
    assert "expired" in capsys.readouterr().err
    assert main(["intents", "approve", "nope-nope"]) == 1
    assert "nope-nope" in capsys.readouterr().err
    storage = open_storage(load_settings(), create=False)
    states = {i.intent_id: i.state for i in storage.intents.list()}
    assert states == {
        a: IntentState.APPROVED,
        b: IntentState.REJECTED,
        expired: IntentState.EXPIRED,
    }


def test_diagnose_filters_counts_rules_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagnose-filters", "--markets", "200", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["markets"] == 200
    rules = {r["name"]: r for r in data["rules"]}
    assert set(rules) >= {"liquidity", "spread", "volume", "time_to_resolution", "category"}
    removed = sum(r["removed"] for r in rules.values())
    assert removed + data["eligible"] == 200
    assert all(len(r["examples"]) == min(3, r["removed"]) for r in rules.values())


def test_doctor_passes_on_a_fresh_machine_after_init(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 1  # no database yet: that check fails with a hint
    out = capsys.readouterr().out
    assert "FAIL" in out and "polyb0t db init" in out
    assert main(["db", "init"]) == 0
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS") == 5


def test_fake_exchange_command_serves_polymarket_formats_on_loopback(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    import httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "polyb0t_tui", "fake-exchange", "--markets", "20", "--seed", "3"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        urls = dict(line.rsplit(None, 1) for line in (proc.stdout.readline() for _ in range(4)))
        gamma = urls["gamma"]
        markets = httpx.get(f"{gamma}/markets", params={"limit": 5, "closed": "false"}).json()
        assert len(markets) == 5 and isinstance(markets[0]["clobTokenIds"], str)
        token = json.loads(markets[0]["clobTokenIds"])[0]
        book = httpx.get(f"{urls['clob']}/book", params={"token_id": token}).json()
        assert book["asset_id"] == token and isinstance(book["bids"][0]["price"], str)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


def test_fake_exchange_refuses_non_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fake-exchange", "--host", "0.0.0.0"]) == 2
    assert "loopback" in capsys.readouterr().err


def test_a_source_that_refuses_at_start_ends_the_run_with_one_line(
    fake_polymarket_thread: ThreadedFakePolymarket,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A wrong Gamma path answers 404: exit 2 with what failed, no traceback, and the run
    on record as ended rather than forever "started"."""
    urls = fake_polymarket_thread.urls
    monkeypatch.setenv("POLYBOT_POLYMARKET__GAMMA_URL", f"{urls.gamma}/wrong")
    monkeypatch.setenv("POLYBOT_POLYMARKET__CLOB_URL", urls.clob)
    monkeypatch.setenv("POLYBOT_CONTROL__ENABLED", "false")
    assert main(["run", "--daemon", "--source", "polymarket", "--cycles", "2"]) == 2
    err = capsys.readouterr().err
    assert "polyb0t: polymarket: market discovery refused" in err and "HTTP 404" in err
    assert "Traceback" not in err
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["run"]["status"] == "source failed to start"
    assert status["run"]["ended_ts"] is not None
    assert main(["status"]) == 0
    assert "(source failed to start)" in capsys.readouterr().out
