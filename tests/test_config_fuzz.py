"""The settings loader is a reader of outside data: whatever a TOML file or a POLYBOT_*
variable holds, it returns Settings or raises `ConfigError` (one line per problem), never
another exception, and no line repeats a value that could be a secret."""

from __future__ import annotations

import base64
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import SECRET_SETTINGS, ConfigError, Settings, load_settings

SECTIONS = {
    name: list(type(getattr(Settings(), name)).model_fields)
    for name, field in Settings.model_fields.items()
    if hasattr(type(getattr(Settings(), name)), "model_fields")
}
TOP = [name for name in Settings.model_fields if name not in SECTIONS]
SUB = sorted({f for fields in SECTIONS.values() for f in fields})
FUZZ = settings(  # deterministic, as the other fuzz suites: CI runs the same examples each time
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def toml_value(v: Any) -> str:
    """A tiny TOML writer for the values the strategies make (inline tables only)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v).replace("\x7f", "\\u007f")
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    assert isinstance(v, dict)
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_document(doc: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in doc.items())


secrets = st.one_of(
    st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex()),
    st.binary(min_size=32, max_size=32).map(lambda b: base64.urlsafe_b64encode(b).decode()),
    st.binary(min_size=32, max_size=32).map(lambda b: b.hex()),
)
scalars = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),  # 400 digits, for float settings
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.booleans(),
    secrets,
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
names = st.text(min_size=1, max_size=12)
section_tables = st.dictionaries(st.sampled_from(SUB) | names, values, max_size=5)
documents = st.dictionaries(
    st.sampled_from([*TOP, *SECTIONS]) | names, values | section_tables, max_size=6
)


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in list(os.environ):
        if key.startswith("POLYBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "fuzz.toml"
    path.touch(0o600)
    yield path


def _load(path: Path) -> Settings | ConfigError:
    try:
        return load_settings(path)
    except ConfigError as exc:
        assert exc.problems and all("\n" not in line for line in exc.problems)
        return exc


@FUZZ
@given(doc=documents)
def test_any_toml_document_loads_or_raises_config_error(cfg: Path, doc: dict[str, Any]) -> None:
    cfg.write_text(toml_document(doc), encoding="utf-8")
    result = _load(cfg)
    if isinstance(result, Settings):
        assert result.model_dump()  # usable, not a half-built object


@FUZZ
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_file_content_loads_or_raises_config_error(cfg: Path, raw: bytes) -> None:
    cfg.write_bytes(raw)
    _load(cfg)


@FUZZ
@given(
    secret=secrets,
    section=st.sampled_from([*SECTIONS, "live"]),
    field=st.sampled_from([*SUB, *SECRET_SETTINGS, "privat_key", "apikey", "typo"]),
    shape=st.sampled_from(["plain", "list", "table", "int"]),
)
def test_a_secret_in_any_field_is_never_echoed(
    cfg: Path, secret: str, section: str, field: str, shape: str
) -> None:
    value: Any = {
        "plain": secret,
        "list": [secret],
        "table": {"k": secret},
        "int": int(secret, 16) if secret.startswith("0x") else secret,
    }[shape]
    cfg.write_text(toml_document({section: {field: value}}), encoding="utf-8")
    result = _load(cfg)
    if isinstance(result, ConfigError):
        assert secret not in str(result)
        assert str(value) not in str(result)


env_names = st.sampled_from(
    [f"POLYBOT_{n.upper()}" for n in TOP]
    + [f"POLYBOT_{n.upper()}" for n in SECTIONS]
    + [f"POLYBOT_{s.upper()}__{f.upper()}" for s, fields in SECTIONS.items() for f in fields]
)
env_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=60)


@FUZZ
@given(env=st.dictionaries(env_names, env_text | secrets | st.integers().map(str), max_size=4))
def test_any_environment_loads_or_raises_config_error(cfg: Path, env: dict[str, str]) -> None:
    with mock.patch.dict(os.environ, env):
        result: Settings | ConfigError
        try:
            result = load_settings()
        except ConfigError as exc:
            result = exc
    if isinstance(result, ConfigError):
        for name, value in env.items():
            secret = any(s.upper() in name for s in (*SECRET_SETTINGS, "DATABASE_URL"))
            elsewhere = [v for n, v in env.items() if n != name]  # may be echoed from there
            if secret and len(value) >= 12 and not any(value in v for v in elsewhere):
                assert value not in str(result), name


def test_a_key_pasted_into_the_control_host_is_refused_without_being_echoed() -> None:
    """Found by the fuzzing above: the loopback check quoted the host it refused."""
    key = "0x" + "ab" * 32
    with pytest.raises(ConfigError) as err:
        load_settings(None, {"control": {"host": key}})
    text = str(err.value)
    assert key not in text
    assert "control.host" in text and "not a loopback address" in text and "not shown" in text
    with pytest.raises(ConfigError, match=r"'10\.0\.0\.5' is not a loopback"):  # plain: named
        load_settings(None, {"control": {"host": "10.0.0.5"}})
