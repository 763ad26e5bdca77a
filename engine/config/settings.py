"""Typed settings: the top level, and loading it from defaults, a file and the environment.

Load order (later wins): defaults < TOML file < `POLYBOT_*` environment variables
(nested with `__`, e.g. `POLYBOT_RISK__MAX_POSITION_PCT=0.02`) < explicit overrides (CLI
flags). The file is `--config FILE`, else `$POLYBOT_CONFIG`, else `./polybot.toml` if
present. Bad values stop start-up with one line per problem (see `ConfigError`), never a
traceback.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from engine.config.bounds import check_numbers
from engine.config.errors import ConfigError, env_problem, format_errors
from engine.config.secrets import SECRET_SETTINGS, looks_like_secret, url_parts
from engine.config.sections import (
    ControlSettings,
    FeatureSettings,
    LiveSettings,
    MlSettings,
    PaperSettings,
    PolymarketSettings,
    RetentionSettings,
    RiskSettings,
    SimSettings,
    StrategySettings,
    UiSettings,
    UniverseSettings,
)
from engine.control.files import bind_problem


class Settings(BaseSettings):
    """Everything the runtime is built from."""

    model_config = SettingsConfigDict(
        env_prefix="POLYBOT_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
        allow_inf_nan=False,
    )

    data_dir: Path = Path("./data")
    # Default: sqlite:///<data_dir>/polybot.db. Kept out of repr: a URL may hold a password.
    database_url: str | None = Field(None, repr=False)
    source: Literal["sim", "polymarket", "replay"] = "sim"
    loop_interval_seconds: float = Field(10.0, gt=0)
    snapshot_interval_seconds: float = Field(60.0, gt=0)
    # A market's snapshot is stored when its top of book changed since its last stored one,
    # or when that one is this old (a heartbeat); at most every snapshot_interval_seconds.
    # 0 (or <= snapshot_interval_seconds): every market at every snapshot step.
    snapshot_max_interval_seconds: float = Field(900.0, ge=0, le=7 * 86_400)
    speed: float = Field(1.0, gt=0)  # simulated seconds per wall second (sim/replay)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_file: Path | None = None
    record: bool = False  # store every source event so `--source replay` can play it back
    replay_run: str | None = None  # which recorded run `--source replay` plays (default: latest)

    sim: SimSettings = SimSettings()
    universe: UniverseSettings = UniverseSettings()
    features: FeatureSettings = FeatureSettings()
    strategy: StrategySettings = StrategySettings()
    risk: RiskSettings = RiskSettings()
    paper: PaperSettings = PaperSettings()
    live: LiveSettings = LiveSettings()
    polymarket: PolymarketSettings = PolymarketSettings()
    ui: UiSettings = UiSettings()
    control: ControlSettings = ControlSettings()
    retention: RetentionSettings = RetentionSettings()
    ml: MlSettings = MlSettings()

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, Path) and "\x00" in str(value):
            raise ValueError("a path cannot hold a NUL character")
        return check_numbers(value, info.field_name or "")

    @model_validator(mode="after")
    def _control_bind(self) -> Settings:
        # The daemon refuses the same bind at start (`check_bind`); saying so here lets
        # `config validate` catch it, in the same words.
        host = self.control.host
        problem = bind_problem(host, self.control.allow_remote)
        if problem:  # a key pasted into the wrong field is not echoed, even here
            hidden = "(a value that looks like a key, not shown)"
            raise ValueError(
                problem.replace(repr(host), hidden) if looks_like_secret(host) else problem
            )
        return self

    @model_validator(mode="after")
    def _sim_time_constants(self) -> Settings:
        # The sim refuses the same at start (`SimExchange`); here `config validate` says so.
        if self.source == "sim":
            problems = self.sim.time_constant_problems(self.ml.sample_interval_seconds)
            if problems:
                raise ValueError("; ".join(problems))
        return self

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'polybot.db').as_posix()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit keyword arguments (CLI flags) beat the environment; `load_settings`
        # adds the TOML file below both.
        return (init_settings, env_settings)


class _DictSource(PydanticBaseSettingsSource):
    """Settings parsed from the TOML file, lowest priority above the defaults."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def resolve_config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """`--config`, else `$POLYBOT_CONFIG`, else `./polybot.toml` if it exists."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("POLYBOT_CONFIG")
    if env:
        return Path(env)
    local = Path("polybot.toml")
    return local if local.is_file() else None


def _read_toml(path: Path, source: str) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError([f"config file not found: {path}"], source)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"not valid TOML: {exc}"], source) from None
    except UnicodeDecodeError:
        raise ConfigError(["not valid TOML: the file is not UTF-8 text"], source) from None
    except ValueError as exc:  # tomllib's own: a 5,000-digit integer, a year 0 date
        raise ConfigError([f"not valid TOML: {exc}"], source) from None
    except RecursionError:
        raise ConfigError(["not valid TOML: arrays or tables nested too deeply"], source) from None
    except OSError as exc:
        raise ConfigError([f"cannot read the file: {exc.strerror or exc}"], source) from None


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings from file + environment + explicit overrides (CLI flags win).

    Raises `ConfigError` with one line per problem, and nothing else, whatever the file or
    the environment holds; no line repeats a secret's value (see `looks_like_secret`).
    """
    path = resolve_config_path(config_path)
    data: dict[str, Any] = {}
    source = str(path) if path else None
    if path is not None:
        data = _read_toml(path, str(path))
        _refuse_readable_secrets(path, data, source)
    file_data = data

    class _FromFile(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, _DictSource(settings_cls, file_data))

    try:
        loaded = _FromFile(**dict(overrides or {}))
        # A plain Settings (validated once more, no sources read again).
        return Settings.model_validate(loaded.model_dump())
    except ValidationError as exc:
        raise ConfigError(format_errors(exc), source) from None
    except SettingsError as exc:
        raise ConfigError([env_problem(exc)], source) from None
    except RecursionError:
        raise ConfigError(["settings nested too deeply"], source) from None


def _refuse_readable_secrets(path: Path, data: dict[str, Any], source: str | None) -> None:
    """A file holding keys or a database password must be private (0600): secrets come
    from the environment or a file only its owner can read, never one the whole machine
    can."""
    live = data.get("live")
    held = []
    if isinstance(live, dict) and any(live.get(k) for k in SECRET_SETTINGS):
        held.append(("live credentials", "POLYBOT_LIVE__* variables"))
    url = data.get("database_url")
    if isinstance(url, str) and (parts := url_parts(url)) is not None and parts[2]:
        held.append(("a database password (database_url)", "POLYBOT_DATABASE_URL"))
    if not held:
        return
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(
            [
                f"{path} holds {what} but is readable by others (mode {mode:04o}); "
                f"run `chmod 600 {path}` or move the secret to {where}"
                for what, where in held
            ],
            source,
        )
