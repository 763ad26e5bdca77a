"""The data dir is created 0700 and the SQLite database with its -wal/-shm 0600, whatever
the umask; looser existing ones get one warning line with the chmod to run, and are not
changed."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.config import Settings, load_settings
from polyb0t_tui.cli import main
from polyb0t_tui.runtime import open_storage


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key in list(os.environ):
        if key.startswith("POLYBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return load_settings()


@pytest.fixture
def open_umask() -> Iterator[None]:
    """umask 0: without a mode at creation, folders would be 0777 and files 0666."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("open_umask")
def test_a_new_data_dir_and_database_are_private(settings: Settings) -> None:
    storage = open_storage(settings, create=True)
    db_path = settings.data_dir / "polybot.db"
    try:
        with storage.db.write() as conn:  # the writer holds -wal and -shm open
            conn.execute(text("CREATE TABLE scratch (x INTEGER)"))
            conn.execute(text("INSERT INTO scratch VALUES (1)"))
            side = [db_path.with_name(db_path.name + s) for s in ("-wal", "-shm")]
            assert all(p.exists() for p in side)
            assert [_mode(p) for p in side] == [0o600, 0o600]
    finally:
        storage.db.close()
    assert _mode(settings.data_dir) == 0o700
    assert _mode(db_path) == 0o600


def test_a_database_url_elsewhere_gets_a_private_folder_too(
    tmp_path: Path, settings: Settings, open_umask: None
) -> None:
    path = tmp_path / "elsewhere" / "deeper" / "bot.db"
    custom = settings.model_copy(update={"database_url": f"sqlite:///{path}"})
    open_storage(custom, create=True).db.close()
    assert _mode(path.parent) == 0o700 and _mode(path) == 0o600


def test_looser_existing_ones_are_warned_about_not_changed(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    open_storage(settings, create=True).db.close()
    db_path = settings.data_dir / "polybot.db"
    settings.data_dir.chmod(0o755)
    db_path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="polyb0t.storage"):
        open_storage(settings, create=False).db.close()
    lines = [r.getMessage() for r in caplog.records]
    assert any("mode 0755" in m and "chmod 700 data" in m for m in lines), lines
    assert any("mode 0644" in m and "chmod 600 data/polybot.db" in m for m in lines), lines
    assert _mode(settings.data_dir) == 0o755 and _mode(db_path) == 0o644  # the user's call


def test_doctor_warns_about_loose_modes_with_the_fix(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # the table on one line per check
    assert main(["db", "init"]) == 0
    settings.data_dir.chmod(0o750)
    (settings.data_dir / "polybot.db").chmod(0o640)
    capsys.readouterr()
    assert main(["doctor"]) == 0  # a warning does not fail the doctor
    out = capsys.readouterr().out
    assert out.count("WARN") == 2
    assert "chmod 700 data" in out and "chmod 600 data/polybot.db" in out
