"""Settings: load order, validation messages, masking, and the documented example file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from engine.config import (
    ConfigError,
    Settings,
    load_settings,
    mask_url,
    masked_dump,
    secret_values,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("POLYBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults_load_without_any_file() -> None:
    s = load_settings()
    assert s.strategy.edge_threshold == 0.05
    assert s.live.intent_expiry_seconds == 300
    assert s.live.dry_run is True
    assert s.db_url.endswith("data/polybot.db")


def test_file_then_environment_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[risk]\nbankroll = 500\nkelly_fraction = 0.5\n[sim]\nseed = 3\n")
    monkeypatch.setenv("POLYBOT_RISK__KELLY_FRACTION", "0.1")
    monkeypatch.setenv("POLYBOT_SIM__SEED", "9")
    s = load_settings(cfg, {"sim": {"seed": 7}})
    assert s.risk.bankroll == 500  # file
    assert s.risk.kelly_fraction == 0.1  # env beats file
    assert s.sim.seed == 7  # flag beats env


def test_config_path_from_environment_then_local_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "polybot.toml").write_text("loop_interval_seconds = 5\n")
    assert load_settings().loop_interval_seconds == 5
    other = tmp_path / "other.toml"
    other.write_text("loop_interval_seconds = 7\n")
    monkeypatch.setenv("POLYBOT_CONFIG", str(other))
    assert load_settings().loop_interval_seconds == 7


def test_every_problem_is_one_line_naming_setting_value_and_allowed(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('bogus = 1\nsource = "moon"\n[risk]\nbankroll = -5\nmax_position_pct = 2\n')
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    problems = info.value.problems
    assert len(problems) == 4
    text = "\n".join(problems)
    assert "risk.bankroll: got -5; allowed: a number > 0" in text
    assert "risk.max_position_pct: got 2; allowed: a number <= 1" in text
    assert "source: got 'moon'; allowed: one of 'sim', 'polymarket' or 'replay'" in text
    assert "bogus: got 1; allowed: unknown setting" in text


def test_missing_file_and_bad_toml_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[risk\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)


def test_secrets_are_masked_in_dumps_and_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYBOT_LIVE__PRIVATE_KEY", "0xdeadbeefsecret")
    monkeypatch.setenv("POLYBOT_DATABASE_URL", "postgresql://bot:hunter2@db/polybot")
    s = load_settings()
    dump = masked_dump(s)
    text = repr(dump) + repr(s)
    assert "deadbeef" not in text and "hunter2" not in text
    assert dump["live"]["private_key"] == "********"
    assert mask_url("postgresql://bot:hunter2@db/x") == "postgresql://bot:********@db/x"


def test_the_log_filter_is_given_every_configured_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLYBOT_LIVE__PRIVATE_KEY", "0xdeadbeefsecret")
    monkeypatch.setenv("POLYBOT_LIVE__API_SECRET", "api-secret-value")
    monkeypatch.setenv("POLYBOT_DATABASE_URL", "postgresql://bot:hun%40ter2@db:5432/polybot")
    values = secret_values(load_settings())
    assert set(values) == {"0xdeadbeefsecret", "api-secret-value", "hun%40ter2", "hun@ter2"}
    monkeypatch.setenv("POLYBOT_DATABASE_URL", "postgresql://bot@db/polybot")  # no password
    assert set(secret_values(load_settings())) == {"0xdeadbeefsecret", "api-secret-value"}


def test_example_config_documents_every_setting_with_its_default() -> None:
    """config.example.toml must parse to exactly the defaults, and name every setting."""
    text = (ROOT / "config.example.toml").read_text()
    data = tomllib.loads(text)
    assert Settings(**data) == Settings()
    documented = set(re.findall(r"^(?:# )?(\w+) =", text, flags=re.MULTILINE))
    sections = set(re.findall(r"^\[(\w+)\]$", text, flags=re.MULTILINE))
    defaults = Settings()
    for name in Settings.model_fields:
        section = getattr(defaults, name)
        if hasattr(type(section), "model_fields"):
            assert name in sections, f"[{name}] missing from config.example.toml"
            for sub in type(section).model_fields:
                assert sub in documented, f"{name}.{sub} undocumented"
        else:
            assert name in documented, f"{name} missing from config.example.toml"


def test_a_config_file_with_secrets_must_be_private(tmp_path: Path) -> None:
    cfg = tmp_path / "live.toml"
    cfg.write_text('[live]\nprivate_key = "0xabc123secret"\n')
    cfg.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600") as info:
        load_settings(cfg)
    assert "0xabc123secret" not in str(info.value)
    cfg.chmod(0o600)
    assert load_settings(cfg).live.private_key is not None
    public = tmp_path / "public.toml"
    public.write_text("[risk]\nbankroll = 50\n")
    public.chmod(0o644)
    assert load_settings(public).risk.bankroll == 50  # no secrets: any mode is fine


def test_live_executor_knobs_come_from_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.execution.clob_settings import ClobSettings
    from polyb0t_tui.runtime import clob_settings

    assert clob_settings(load_settings()) == ClobSettings()  # the same defaults both sides
    monkeypatch.setenv("POLYBOT_LIVE__HEARTBEAT_SECONDS", "0")
    monkeypatch.setenv("POLYBOT_LIVE__POST_TIMEOUT_SECONDS", "2.5")
    s = load_settings(None, {"live": {"order_type": "GTC", "post_attempts": 2}})
    clob = clob_settings(s)
    assert clob.heartbeat_interval_s is None and clob.rests  # 0: no heartbeat, even resting
    assert clob.post_timeout_s == 2.5 and clob.post_attempts == 2
    with pytest.raises(ConfigError, match=r"live\.heartbeat_seconds"):
        load_settings(None, {"live": {"heartbeat_seconds": 12}})  # past Polymarket's 10 s
