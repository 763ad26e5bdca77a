"""The token and URL files: private from the first byte, never reused once unsafe."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from engine.control.files import (
    ControlFileError,
    client_url,
    is_loopback_host,
    prepare_token,
    read_token,
    read_url,
    remove_url,
    save_token,
    url_host,
    write_url,
)


def load_or_create_token(path: Path) -> tuple[str, str | None]:
    """What the daemon does at start: read the token, or make one and write it."""
    token, warning, fresh = prepare_token(path)
    if fresh:
        save_token(path, token)
    return token, warning


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_token_file_is_0600_even_under_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        token, warning = load_or_create_token(tmp_path / "control.token")
    finally:
        os.umask(old)
    assert warning is None
    assert mode(tmp_path / "control.token") == 0o600
    assert len(token) >= 43
    assert read_token(tmp_path / "control.token") == token
    assert [p.name for p in tmp_path.iterdir()] == ["control.token"]  # no temp file left


def test_a_private_token_is_reused_so_consoles_survive_a_restart(tmp_path: Path) -> None:
    first, _ = load_or_create_token(tmp_path / "control.token")
    again, warning = load_or_create_token(tmp_path / "control.token")
    assert again == first and warning is None


@pytest.mark.parametrize("loose", [0o644, 0o640, 0o604, 0o666])
def test_a_token_others_could_read_is_replaced_and_said(tmp_path: Path, loose: int) -> None:
    path = tmp_path / "control.token"
    old, _ = load_or_create_token(path)
    path.chmod(loose)
    new, warning = load_or_create_token(path)
    assert new != old
    assert warning is not None and f"mode {loose:04o}" in warning and "new token" in warning
    assert mode(path) == 0o600


def test_a_symlinked_or_garbage_token_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "control.token"
    target = tmp_path / "elsewhere"
    target.write_text("x" * 50)
    target.chmod(0o600)
    path.symlink_to(target)
    token, warning = load_or_create_token(path)
    assert warning is not None and "symlink" in warning
    assert not path.is_symlink() and target.read_text() == "x" * 50  # the target untouched
    path.write_text("short")
    path.chmod(0o600)
    token2, warning = load_or_create_token(path)
    assert warning is not None and "usable token" in warning and token2 != token


def test_a_console_refuses_a_token_file_others_can_read(tmp_path: Path) -> None:
    path = tmp_path / "control.token"
    load_or_create_token(path)
    path.chmod(0o644)
    with pytest.raises(ControlFileError, match="readable by other users"):
        read_token(path)
    with pytest.raises(ControlFileError, match="no control token"):
        read_token(tmp_path / "missing")


def test_the_url_file_is_written_and_removed_only_while_it_is_ours(tmp_path: Path) -> None:
    path = tmp_path / "control.url"
    with pytest.raises(ControlFileError, match="no daemon is running"):
        read_url(path)
    write_url(path, "ws://127.0.0.1:1234")
    assert read_url(path) == "ws://127.0.0.1:1234"
    remove_url(path, "ws://127.0.0.1:9999")  # another daemon's: left alone
    assert path.exists()
    remove_url(path, "ws://127.0.0.1:1234")
    assert not path.exists()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_only_loopback_addresses_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_urls_are_checked_and_any_address_binds_are_reached_through_loopback() -> None:
    assert url_host("ws://127.0.0.1:8765") == "127.0.0.1"
    assert url_host("ws://[::1]:8765") == "::1"
    for bad in ("http://127.0.0.1:8765", "ws://127.0.0.1", "127.0.0.1:8765", "ws://h:99999"):
        with pytest.raises(ControlFileError):
            url_host(bad)
    assert client_url("0.0.0.0", 5) == "ws://127.0.0.1:5"
    assert client_url("::", 5) == "ws://[::1]:5"
    assert client_url("::1", 5) == "ws://[::1]:5"
    assert client_url("localhost", 5) == "ws://localhost:5"
