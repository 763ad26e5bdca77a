"""`polyb0t config validate` as an attacker or a careless paste would try it: secrets are
never echoed, secrets in a file others can read are refused, every number is bounded, and
the control socket's bind rule is the daemon's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import (
    MAX_SECONDS,
    SEED_MAX,
    ConfigError,
    ControlSettings,
    load_settings,
    looks_like_secret,
)
from engine.control.files import bind_problem
from engine.control.server import ControlStartError, check_bind
from polyb0t_tui.cli import main

pytestmark = pytest.mark.usefixtures("cli_isolated")

KEY = "0x" + "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"


def _private(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "polybot.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def _validate(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["config", "validate", "--config", str(path)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_private_key_given_as_a_toml_integer_is_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    as_int = int(KEY, 16)
    code, out = _validate(_private(tmp_path, f"[live]\nprivate_key = {KEY}\n"), capsys)
    assert code == 2
    assert "live.private_key: got <hidden" in out
    assert str(as_int) not in out and KEY[2:] not in out


def test_a_secret_given_as_a_list_is_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _validate(_private(tmp_path, '[live]\napi_secret = ["hunter2-short"]\n'), capsys)
    assert code == 2
    assert "live.api_secret: got <hidden>" in out and "hunter2" not in out


def test_a_key_pasted_into_a_misspelt_field_is_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = f'[live]\nprivat_key = "{KEY}"\n[risk]\nbankrol = "{KEY[2:]}"\nnote = "ok"\n'
    code, out = _validate(_private(tmp_path, text), capsys)
    assert code == 2
    assert KEY[2:] not in out
    assert "live.privat_key: got <hidden>; allowed: unknown setting" in out
    assert "risk.bankrol: got <hidden>" in out  # not a secret's name, but a key's look
    assert "risk.note: got 'ok'; allowed: unknown setting" in out  # plain values still shown


def test_what_looks_like_a_key() -> None:
    for secret in (
        KEY,
        KEY[2:],
        "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eA==",  # base64
        "9e2f0b3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",  # an api key (a UUID)
        int(KEY, 16),
        ["x", {"y": KEY}],
    ):
        assert looks_like_secret(secret), secret
    for plain in ("sim", "./data", "https://clob.polymarket.com", 42, 0.5, "volume24hr"):
        assert not looks_like_secret(plain), plain
    assert not looks_like_secret("ws_snapshot_timeout_seconds_and_more")  # a long name


def test_a_database_password_in_a_file_others_can_read_is_refused(tmp_path: Path) -> None:
    text = 'database_url = "postgresql://bot:pa55word@db.internal/polybot"\n'
    path = _private(tmp_path, text, 0o644)
    with pytest.raises(ConfigError, match=r"chmod 600") as info:
        load_settings(path)
    assert "database password" in str(info.value) and "pa55word" not in str(info.value)
    path.chmod(0o600)
    assert load_settings(path).database_url is not None
    _private(tmp_path, 'database_url = "postgresql://bot@db/polybot"\n', 0o644)
    assert load_settings(path).database_url is not None  # no password: any mode is fine


def test_numbers_are_bounded_and_finite(tmp_path: Path) -> None:
    text = (
        f"[risk]\nbankroll = {'9' * 400}\nkelly_fraction = nan\n"
        "[strategy]\nrepeat_signal_seconds = inf\n"
        "[features]\nreturn_windows_seconds = [60.0, nan]\n"  # no bound of its own
    )
    with pytest.raises(ConfigError) as info:
        load_settings(_private(tmp_path, text))
    problems = "\n".join(info.value.problems)
    assert "risk.bankroll: got <hidden: an integer of 400+ digits>" in problems
    assert "risk.kelly_fraction: got nan" in problems
    assert "strategy.repeat_signal_seconds: got inf" in problems
    assert "features.return_windows_seconds.1: got nan" in problems
    expected = r"loop_interval_seconds: got 10000000000.0; allowed: a number of at most 1e9 s"
    with pytest.raises(ConfigError, match=expected):
        load_settings(_private(tmp_path, f"loop_interval_seconds = {MAX_SECONDS * 10}\n"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(_private(tmp_path, f"loop_interval_seconds = {'9' * 5000}\n"))


def test_the_seed_fits_the_runs_table(tmp_path: Path) -> None:
    assert load_settings(_private(tmp_path, f"[sim]\nseed = {SEED_MAX}\n")).sim.seed == SEED_MAX
    for bad in (-1, SEED_MAX + 1):
        with pytest.raises(ConfigError, match=r"sim\.seed"):
            load_settings(_private(tmp_path, f"[sim]\nseed = {bad}\n"))


def test_control_host_beyond_loopback_is_refused_in_the_daemons_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _private(tmp_path, '[control]\nhost = "0.0.0.0"\n')
    code, out = _validate(path, capsys)
    assert code == 2
    rule = bind_problem("0.0.0.0", allow_remote=False)
    assert rule is not None and rule in out
    with pytest.raises(ControlStartError) as info:
        check_bind(ControlSettings(host="0.0.0.0"))
    assert str(info.value) == rule  # one rule, one wording, both places
    path.write_text('[control]\nhost = "0.0.0.0"\nallow_remote = true\n')
    assert _validate(path, capsys)[0] == 0


def test_an_environment_section_that_is_not_json_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POLYBOT_SIM", "not json")
    with pytest.raises(ConfigError, match=r"^invalid configuration:\nPOLYBOT_SIM: ") as info:
        load_settings()
    assert len(info.value.problems) == 1


def test_odd_names_in_the_file_stay_on_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_private(tmp_path, f'"a\\nb" = 1\n"{KEY}" = 2\n'))
    assert info.value.problems == [
        "'a\\nb': got 1; allowed: unknown setting (see config.example.toml)",
        "<hidden>: got 2; allowed: unknown setting (see config.example.toml)",
    ]
