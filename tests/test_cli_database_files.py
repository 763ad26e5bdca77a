"""The database file as a new user finds it: read commands create nothing where there is
none, a file that is not a database is named as such and `db reset` replaces it, and an
intent past its expiry says so."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from engine.config import load_settings
from engine.models import Outcome, Side, TradeIntent
from polyb0t_tui.cli import main
from polyb0t_tui.cli.common import fmt_expiry
from polyb0t_tui.runtime import open_storage

pytestmark = pytest.mark.usefixtures("cli_isolated", "_wide_terminal")

DB = Path("data") / "polybot.db"
READERS = [
    ["status"],
    ["status", "--json"],
    ["report"],
    ["report", "--json", "--today"],
    ["intents", "list"],
    ["intents", "approve", "abcdef"],
    ["intents", "reject", "abcdef"],
]


@pytest.fixture
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # doctor's table: one line per check


def test_read_commands_create_no_data_dir_or_database(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in READERS:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert err == (
            f"polyb0t: there is no database at {DB}: `polyb0t run` creates it on first use, "
            "or create an empty one with `polyb0t db init`\n"
        ), argv
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "does not exist yet" in out and f"there is no database at {DB}" in out
    assert not Path("data").exists()


@pytest.mark.parametrize(
    "content", [random.Random(7).randbytes(4096), b"just some notes\n" * 40], ids=["bytes", "text"]
)
def test_a_file_that_is_not_a_database_is_named_and_reset_replaces_it(
    content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    DB.parent.mkdir(mode=0o700)
    DB.write_bytes(content)
    for side in ("-wal", "-shm"):
        DB.with_name(DB.name + side).write_bytes(b"stale")
    said = f"sqlite:///{DB} is not a readable SQLite database"

    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    doctor_line = next(line for line in out.splitlines() if "database" in line)
    assert "FAIL" in doctor_line and said in doctor_line and "polyb0t db reset" in doctor_line
    assert "db init" not in doctor_line  # which would fail the same way

    for argv in (["db", "init"], ["status"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and said in err and "`polyb0t db reset`" in err, argv
    assert DB.read_bytes() == content  # nothing replaced without being asked

    assert main(["db", "reset", "--yes"]) == 0
    assert "database reset" in capsys.readouterr().out
    for side in ("-wal", "-shm"):  # the stale ones went with the file they belonged to
        path = DB.with_name(DB.name + side)
        assert not path.exists() or path.read_bytes() != b"stale"
    assert main(["status"]) == 0
    assert "no runs yet" in capsys.readouterr().out
    assert DB.stat().st_mode & 0o777 == 0o600


def test_reset_asks_what_it_will_do_to_such_a_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    DB.parent.mkdir()
    DB.write_text("not a database")
    asked: list[str] = []

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return "no"

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", answer)
    assert main(["db", "reset"]) == 1
    assert asked == [
        f"sqlite:///{DB} is not a readable database. Replace the file with an empty one? "
        "Type 'yes' to confirm: "
    ]
    assert "aborted; nothing changed" in capsys.readouterr().out
    assert DB.read_text() == "not a database"


def _intent(n: int, expires_ts: float) -> TradeIntent:
    return TradeIntent(
        intent_id=f"run1-{n:07d}",
        created_ts=expires_ts - 300,
        expires_ts=expires_ts,
        market_id=f"0x{n:064x}",
        token_id=str(n),
        outcome=Outcome.YES,
        side=Side.BUY,
        size=10.0,
        limit_price=0.4,
        p_model=0.5,
        edge=0.08,
        question=f"Q{n}?",
    )


def test_intents_list_says_an_intent_has_expired(capsys: pytest.CaptureFixture[str]) -> None:
    now = time.time()
    storage = open_storage(load_settings(), create=True)
    storage.store.start_run(run_id="run1", started_ts=now, mode="live", source="sim")
    storage.intents.create([_intent(1, now + 300), _intent(2, now - 17 * 60)], "run1")
    storage.db.close()
    assert main(["intents", "list"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert "in 5m" in rows["run1-0000001"]
    assert "expired 17m ago" in rows["run1-0000002"]


def test_expiry_reads_forwards_then_backwards() -> None:
    assert fmt_expiry(30) == "in 30s"
    assert fmt_expiry(17 * 60) == "in 17m"
    assert fmt_expiry(-17 * 60) == "expired 17m ago"
    assert fmt_expiry(-3 * 3600) == "expired 3.0h ago"
    assert fmt_expiry(0) == "expired 0s ago"
