"""Typed settings: one place for every knob, with its default and its limits.

The package's API, whatever module a name lives in: the sections' models
(`engine.config.sections`), `Settings` and `load_settings` (`engine.config.settings`), the
error lines of a bad configuration (`engine.config.errors`) and the secrets' masking
(`engine.config.secrets`). Load order, file lookup and error rules: `engine.config.settings`.
"""

from __future__ import annotations

from engine.config.bounds import MAX_NUMBER, MAX_SECONDS
from engine.config.errors import ConfigError
from engine.config.secrets import (
    SECRET_SETTINGS,
    looks_like_secret,
    mask_url,
    masked_dump,
    secret_values,
)
from engine.config.sections import (
    CATEGORIES,
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
from engine.config.settings import Settings, load_settings, resolve_config_path
from engine.limits import MAX_SIM_MARKETS, SEED_MAX  # there: the CLI's flags use them

__all__ = [
    "CATEGORIES",
    "MAX_NUMBER",
    "MAX_SECONDS",
    "MAX_SIM_MARKETS",
    "SECRET_SETTINGS",
    "SEED_MAX",
    "ConfigError",
    "ControlSettings",
    "FeatureSettings",
    "LiveSettings",
    "MlSettings",
    "PaperSettings",
    "PolymarketSettings",
    "RetentionSettings",
    "RiskSettings",
    "Settings",
    "SimSettings",
    "StrategySettings",
    "UiSettings",
    "UniverseSettings",
    "load_settings",
    "looks_like_secret",
    "mask_url",
    "masked_dump",
    "resolve_config_path",
    "secret_values",
]
