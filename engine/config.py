"""Typed settings: one place for every knob, with its default and its limits.

Load order (later wins): defaults < TOML file < `POLYBOT_*` environment variables
(nested with `__`, e.g. `POLYBOT_RISK__MAX_POSITION_PCT=0.02`). The file is `--config FILE`,
else `$POLYBOT_CONFIG`, else `./polybot.toml` if present. Bad values stop start-up with one
line per problem (see `ConfigError`), never a traceback.
"""

from __future__ import annotations

import os
import re
import reprlib
import tomllib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from engine.control.files import bind_problem
from engine.limits import MAX_SIM_MARKETS as MAX_SIM_MARKETS  # there: the CLI's flags use them
from engine.limits import SEED_MAX as SEED_MAX

CATEGORIES = (
    "politics",
    "sports",
    "crypto",
    "economics",
    "geopolitics",
    "culture",
    "tech",
    "weather",
)  # the simulated world's categories; Polymarket's also include finance, mentions, other


# Bounds every number in the settings obeys, whatever its own limits: a config file or
# variable is outside data, and a 400-digit integer or 1e300 seconds must stop at load
# time with one line, not later as an OverflowError in a timer or a database column.
MAX_NUMBER = 1e12
MAX_SECONDS = 1e9  # ~31 years; below threading.TIMEOUT_MAX, so any timer accepts it


def _check_numbers(value: Any, name: str) -> Any:
    """Shared by every section: finite (pydantic's allow_inf_nan) and within the bounds."""
    seconds = name.endswith("_seconds")
    limit = MAX_SECONDS if seconds else MAX_NUMBER
    items = value if isinstance(value, list) else [value]
    for v in items:
        if isinstance(v, int | float) and not isinstance(v, bool) and abs(v) > limit:
            raise ValueError(
                "a number of at most 1e9 seconds (about 31 years)"
                if seconds
                else "a number between -1e12 and 1e12"
            )
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, value: Any, info: ValidationInfo) -> Any:
        return _check_numbers(value, info.field_name or "")


class SimSettings(_Section):
    """The simulated exchange (`--source sim`)."""

    seed: int = Field(42, ge=0, le=SEED_MAX)
    markets: int = Field(300, ge=1, le=MAX_SIM_MARKETS)
    start: datetime | None = None  # simulated start time; default: today 00:00 UTC
    step_seconds: float = Field(10.0, gt=0)  # world step; books change at most this often
    book_levels: int = Field(8, ge=1, le=50)
    event_group_share: float = Field(0.3, ge=0, le=1)  # share of markets in multi-outcome events
    new_listings_per_day: float = Field(5.0, ge=0)
    jump_rate_per_day: float = Field(0.5, ge=0)  # news jumps per market per day
    # Biases a model could learn; set to 0 / [] to switch them off.
    favourite_longshot_bias: float = Field(0.3, ge=0, le=1)
    slow_categories: list[str] = Field(default_factory=lambda: ["politics", "geopolitics"])
    slow_reaction: float = Field(0.1, gt=0, le=1)  # share of the gap closed per step there
    price_noise: float = Field(0.01, ge=0, le=0.2)  # std of the traded price's noise (prob.)


class UniverseSettings(_Section):
    """Which markets the strategy may trade (`polyb0t diagnose-filters` explains)."""

    min_liquidity: float = Field(500.0, ge=0)  # USDC within the book's top levels
    max_spread: float = Field(0.10, gt=0, le=1)
    min_volume: float = Field(1_000.0, ge=0)  # lifetime USDC volume
    min_hours_to_resolution: float = Field(6.0, ge=0)
    max_days_to_resolution: float = Field(365.0, gt=0)
    categories: list[str] = Field(default_factory=list)  # empty: all
    exclude_categories: list[str] = Field(default_factory=list)


class FeatureSettings(_Section):
    return_windows_seconds: list[float] = Field(default_factory=lambda: [60.0, 600.0, 3600.0])
    depth_levels: int = Field(3, ge=1, le=50)

    @field_validator("return_windows_seconds")
    @classmethod
    def _windows_positive(cls, v: list[float]) -> list[float]:
        if not v or any(w <= 0 for w in v):
            raise ValueError("needs at least one window and every window > 0")
        return sorted(v)


class StrategySettings(_Section):
    """The transparent baseline (docs in engine/decision/strategy/baseline.py)."""

    edge_threshold: float = Field(0.05, gt=0, lt=1)
    microprice_weight: float = Field(1.0, ge=0, le=1)  # 0: mid, 1: microprice
    longshot_correction: float = Field(0.3, ge=0, le=1)  # undo a favourite-longshot bias
    move_shrinkage: float = Field(0.3, ge=0, le=1)  # share of the last move assumed noise
    max_signals_per_cycle: int = Field(50, ge=1)
    # A rejected signal identical to one stored less than this ago (same market, token,
    # side and rule) is not stored again: the same idea re-rejected every cycle is noise.
    repeat_signal_seconds: float = Field(300.0, ge=0)


class RiskSettings(_Section):
    bankroll: float = Field(1_000.0, gt=0)  # starting cash, USDC
    kelly_fraction: float = Field(0.25, gt=0, le=1)
    max_position_pct: float = Field(0.05, gt=0, le=1)  # per market, of equity
    max_total_exposure_pct: float = Field(0.6, gt=0, le=1)
    max_event_exposure_pct: float = Field(0.15, gt=0, le=1)  # per event group
    daily_loss_limit_pct: float = Field(0.05, gt=0, le=1)
    max_drawdown_pct: float = Field(0.20, gt=0, le=1)
    stale_data_seconds: float = Field(120.0, gt=0)
    cooldown_seconds: float = Field(600.0, ge=0)  # per market after an order or intent
    min_order_shares: float = Field(5.0, ge=0)  # exchange minimum for resting orders
    min_marketable_usd: float = Field(1.0, ge=0)  # exchange minimum for marketable orders
    # Error-rate kill switch: halt when `error_limit` of the last `error_window_steps`
    # engine steps failed.
    error_window_steps: int = Field(10, ge=1, le=100_000)
    error_limit: int = Field(5, ge=1, le=100_000)

    @model_validator(mode="after")
    def _error_budget(self) -> RiskSettings:
        if self.error_limit > self.error_window_steps:
            raise ValueError("error_limit must be <= error_window_steps")
        return self


class PaperSettings(_Section):
    latency_ms: float = Field(250.0, ge=0)


class LiveSettings(_Section):
    dry_run: bool = True
    intent_expiry_seconds: float = Field(300.0, ge=30)
    approval_price_tolerance: float = Field(0.02, ge=0, le=1)
    intent_poll_seconds: float = Field(1.0, gt=0)
    private_key: SecretStr | None = None
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    api_passphrase: SecretStr | None = None
    funder: str | None = None
    signature_type: int = Field(0, ge=0, le=3)
    # How approved intents are sent: FAK takes what the book offers now at <= the limit and
    # never rests (what the paper executor simulates); GTC/GTD rest; FOK is all-or-nothing.
    order_type: Literal["GTC", "GTD", "FOK", "FAK"] = "FAK"
    chain_id: int = 137  # Polygon; 80002 is the Amoy testnet
    # --- the live executor's timing (engine/execution/clob_settings.py says why each) ---
    gtd_seconds: float = Field(300.0, gt=0)  # a GTD order's life (Polymarket adds ~60 s)
    request_timeout_seconds: float = Field(10.0, gt=0)  # every CLOB call but posting
    post_timeout_seconds: float = Field(10.0, gt=0)  # POST /order; then looked up, not resent
    post_attempts: int = Field(4, ge=1, le=10)  # sends of the one signed order
    lookup_attempts: int = Field(3, ge=1, le=10)  # reads per lookup
    backoff_base_seconds: float = Field(0.5, gt=0)
    backoff_max_seconds: float = Field(8.0, gt=0)
    retry_after_max_seconds: float = Field(30.0, gt=0)  # a longer Retry-After: give up
    # A SUBMITTED intent found nowhere is failed only this long after it was claimed.
    lookup_grace_seconds: float = Field(120.0, gt=0)
    order_poll_seconds: float = Field(5.0, gt=0)  # how often a SUBMITTED intent is looked up
    # Dead-man switch for resting orders (GTC/GTD): Polymarket cancels them all when a
    # heartbeat is 10 s late. 0 switches it off.
    heartbeat_seconds: float = Field(5.0, ge=0, lt=10)
    use_server_time: bool = False  # sign requests with the CLOB's clock, not ours
    max_clock_skew_seconds: float = Field(5.0, gt=0)  # `doctor --live` warns above this
    reconcile_lookback_seconds: float = Field(86_400.0, gt=0)  # trades read at start-up


class PolymarketSettings(_Section):
    """Hosts, HTTP behaviour, discovery and websocket timing for the live data source."""

    # --- hosts (docs/polymarket_api.md §1); overridable so tests and the fake can stand in ---
    gamma_url: str = "https://gamma-api.polymarket.com"
    clob_url: str = "https://clob.polymarket.com"
    ws_url: str = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
    geoblock_url: str = "https://polymarket.com/api/geoblock"  # checked by `doctor --live`
    data_url: str = "https://data-api.polymarket.com"  # positions held, read at live start-up

    # --- HTTP ---
    http_timeout_seconds: float = Field(10.0, gt=0)
    http_connect_timeout_seconds: float = Field(5.0, gt=0)
    retry_attempts: int = Field(5, ge=1, le=20)  # total tries per request, first included
    retry_base_seconds: float = Field(0.5, gt=0)  # first backoff; doubles per retry
    retry_max_seconds: float = Field(30.0, gt=0)  # cap of one backoff
    retry_after_max_seconds: float = Field(120.0, gt=0)  # longer Retry-After: give up
    # Client-side throttle as a share of the documented limits (docs/polymarket_api.md §2.8,
    # §4.9; https://docs.polymarket.com/api-reference/rate-limits): the server counts sliding
    # 10 s windows and delays, then 429s, whoever exceeds them.
    rate_limit_share: float = Field(0.9, gt=0, le=1)

    # --- discovery (Gamma /markets) ---
    max_markets: int = Field(500, ge=1, le=20_000)
    gamma_page_size: int = Field(100, ge=1, le=500)  # third-party wrappers cap limit at 100
    discovery_order: str | None = "volume24hr"  # Gamma sort field; None: server order
    discovery_tag_id: int | None = None  # only markets with this Gamma tag
    min_liquidity: float = Field(0.0, ge=0)  # Gamma liquidity_num_min; 0: no filter
    discovery_retry_seconds: float = Field(30.0, gt=0)  # Gamma down at start: try again

    # --- CLOB REST snapshots ---
    books_batch_size: int = Field(100, ge=1, le=500)  # token ids per POST /books
    books_concurrency: int = Field(4, ge=1, le=32)

    # --- market websocket (docs/polymarket_api.md §5) ---
    # Over 500 assets on one connection lose their snapshots (docs/polymarket_api.md, gotcha G14).
    ws_assets_per_connection: int = Field(200, ge=2, le=500)
    # Stall detection: a PING answered by nothing within ws_pong_timeout_seconds, or market
    # data silent past what the connection's recent gaps make likely (ws_silence_factor x
    # the mean gap, or twice the longest recent one; at least ws_silence_min_seconds, at
    # most ws_stall_seconds) untrusts its markets and resubscribes. A PONG-less stall is
    # seen within ws_ping_seconds + ws_pong_timeout_seconds (8 s by default).
    # Text PING cadence, sent only after subscribing (docs/polymarket_api.md §5.2, gotcha G12).
    ws_ping_seconds: float = Field(5.0, gt=0)
    ws_pong_timeout_seconds: float = Field(3.0, gt=0)
    ws_silence_factor: float = Field(10.0, ge=1)
    ws_silence_min_seconds: float = Field(2.0, gt=0)
    ws_stall_seconds: float = Field(15.0, gt=0)  # no market data this long: always a stall
    # Never trade a book whose connection delivered no market data for this long, whatever
    # the detector makes of it (checked every engine step; trusted again on fresh data).
    stale_after_seconds: float = Field(5.0, gt=0)
    ws_reconnect_min_seconds: float = Field(1.0, gt=0)
    ws_reconnect_max_seconds: float = Field(60.0, gt=0)
    ws_snapshot_timeout_seconds: float = Field(10.0, gt=0)  # then fetch the book over REST
    ws_open_timeout_seconds: float = Field(10.0, gt=0)
    ws_max_frame_bytes: int = Field(16 * 1024 * 1024, ge=1024)  # initial dumps are large
    subscribe_new_markets: bool = True  # follow `new_market` listings up to max_markets

    @model_validator(mode="after")
    def _ordered(self) -> PolymarketSettings:
        if self.ws_reconnect_max_seconds < self.ws_reconnect_min_seconds:
            raise ValueError("ws_reconnect_max_seconds must be >= ws_reconnect_min_seconds")
        if self.retry_max_seconds < self.retry_base_seconds:
            raise ValueError("retry_max_seconds must be >= retry_base_seconds")
        return self


class UiSettings(_Section):
    """The trading console."""

    refresh_per_second: float = Field(4.0, gt=0, le=30)  # pulls of the engine view
    confirm_above_usd: float = Field(100.0, ge=0)  # approvals above this cost ask first
    result_linger_seconds: float = Field(10.0, ge=0)  # closed intents stay visible this long
    # binding id -> key(s), e.g. approve = "y"; polyb0t_tui.keymap checks ids and clashes
    keys: dict[str, str] = Field(default_factory=dict, max_length=200)


class ControlSettings(_Section):
    """The daemon's control socket (consoles attach to it)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8765, ge=0, le=65535)  # 0: any free port (written to the data dir)
    allow_remote: bool = False  # binding beyond loopback must be asked for explicitly

    @field_validator("host")
    @classmethod
    def _host_not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must name an address, e.g. 127.0.0.1")
        return v


_DAYS_MAX = 36_500.0  # a century: "forever" is 0


class RetentionSettings(_Section):
    """How long the tables that grow every cycle keep their rows, in days of engine time
    (the time the rows carry); 0 keeps them forever. `polyb0t db prune` and the daemon's
    automatic prune apply it (docs in engine/storage/retention.py).

    Never pruned, whatever is set here: fills, orders, intents, positions, daily_pnl, runs
    and markets (the money records and what the ML's labels come from), and the backfilled
    price_history."""

    # Top of book per market: the ML's training data and the market detail's chart.
    snapshots_days: float = Field(14.0, ge=0, le=_DAYS_MAX)
    # Rejected signals are most signal rows and rarely read; the others (orders, intents)
    # are few.
    rejected_signals_days: float = Field(14.0, ge=0, le=_DAYS_MAX)
    signals_days: float = Field(0.0, ge=0, le=_DAYS_MAX)
    engine_events_days: float = Field(90.0, ge=0, le=_DAYS_MAX)
    # `polyb0t report`'s rejections by rule (one row per rule per cycle).
    rejection_counts_days: float = Field(90.0, ge=0, le=_DAYS_MAX)
    # A recording is removed whole, once its last event is older than this (a recording
    # without its start cannot be replayed).
    recorded_events_days: float = Field(30.0, ge=0, le=_DAYS_MAX)
    # The daemon prunes this often (wall time), in a thread beside the engine; 0: never.
    prune_interval_seconds: float = Field(3600.0, ge=0, le=30 * 86_400)
    # Rows deleted per transaction: the engine waits at most one batch for the write lock.
    prune_batch_rows: int = Field(10_000, ge=100, le=1_000_000)


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

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, Path) and "\x00" in str(value):
            raise ValueError("a path cannot hold a NUL character")
        return _check_numbers(value, info.field_name or "")

    @model_validator(mode="after")
    def _control_bind(self) -> Settings:
        # The daemon refuses the same bind at start (`check_bind`); saying so here lets
        # `config validate` catch it, in the same words.
        problem = bind_problem(self.control.host, self.control.allow_remote)
        if problem:
            raise ValueError(problem)
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


class ConfigError(Exception):
    """Bad configuration: `problems` holds one human line per problem."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        where = f" in {source}" if source else ""
        super().__init__(f"invalid configuration{where}:\n" + "\n".join(problems))


def resolve_config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """`--config`, else `$POLYBOT_CONFIG`, else `./polybot.toml` if it exists."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("POLYBOT_CONFIG")
    if env:
        return Path(env)
    local = Path("polybot.toml")
    return local if local.is_file() else None


def _describe_allowed(err: Mapping[str, Any]) -> str:
    ctx = err.get("ctx") or {}
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown setting (see config.example.toml)"
    if "expected" in ctx:
        return f"one of {ctx['expected']}"
    for key, word in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
        if key in ctx:
            return f"a number {word} {ctx[key]}"
    return _plain_message(err)


def _plain_message(err: Mapping[str, Any]) -> str:
    return str(err.get("msg", "invalid")).removeprefix("Value error, ")


SECRET_SETTINGS = ("private_key", "api_key", "api_secret", "api_passphrase")
# Fields whose value is never shown, whatever it looks like (the URL may hold a password).
_HIDDEN_FIELDS = frozenset({*SECRET_SETTINGS, "database_url"})
# A misspelt field named like one of these probably holds a secret too.
_SECRET_NAME = re.compile(r"key|secret|pass|token|private|mnemonic|credential", re.IGNORECASE)
_HEX_KEY = re.compile(r"(?:0x)?[0-9a-fA-F]{64}")  # a private key, a passphrase
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9+/=_-]{32,}")  # base64 secrets, UUID api keys
_SNAKE_CASE = re.compile(r"[a-z]+(?:_[a-z]+)+")
_LONG_INT = 10**30  # a hex key written as a TOML integer (0xab...) is ~77 digits
_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxlong, _SHOWN.maxother = 2, 60, 40, 60
_SHOWN.maxlist = _SHOWN.maxdict = 6


def looks_like_secret(value: Any, depth: int = 0) -> bool:
    """Could `value` be a key or token pasted into the config? Then it is never echoed.

    Errs towards hiding: any run of 32 or more base64 characters is treated as one (a
    setting's own values are short words, numbers, paths and URLs), and so is anything
    nested too deep to look through.
    """
    if depth > 8:
        return True
    if isinstance(value, SecretStr):
        return True
    if isinstance(value, str):
        text = value.strip()
        if _SNAKE_CASE.fullmatch(text):  # a long setting name, not a token
            return False
        return bool(_HEX_KEY.fullmatch(text) or _TOKEN_LIKE.fullmatch(text))
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) >= _LONG_INT
    if isinstance(value, Mapping):
        return any(
            looks_like_secret(k, depth + 1) or looks_like_secret(v, depth + 1)
            for k, v in value.items()
        )
    if isinstance(value, list | tuple | set | frozenset):
        return any(looks_like_secret(v, depth + 1) for v in value)
    return False


def _hidden(err: Mapping[str, Any]) -> bool:
    loc = [str(p) for p in err["loc"]]
    if any(p in _HIDDEN_FIELDS for p in loc):
        return True
    if err.get("type") == "extra_forbidden" and loc and _SECRET_NAME.search(loc[-1]):
        return True
    return looks_like_secret(err.get("input"))


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


def _loc_text(loc: tuple[int | str, ...]) -> str:
    """A setting's dotted name; a name from the file that is odd (a newline in it, a key
    pasted as a name) is quoted or hidden, so the problem stays one line and no secret."""
    parts = []
    for p in loc:
        text = str(p)
        if looks_like_secret(text):
            parts.append("<hidden>")
        elif _PLAIN_NAME.fullmatch(text):
            parts.append(text)
        else:
            parts.append(_SHOWN.repr(text))
    return ".".join(parts)


def _format_errors(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = _loc_text(err["loc"])
        given = err.get("input")
        if isinstance(given, dict) and err.get("type") == "value_error":
            # a rule across several settings (the message names them); no value to show
            lines.append(f"{loc + ': ' if loc else ''}{_plain_message(err)}")
            continue
        if err.get("type") == "missing":
            shown = "<missing>"
        elif _hidden(err):
            shown = "<hidden>"
            if isinstance(given, int) and not isinstance(given, bool):
                shown = f"<hidden: an integer of {int(given.bit_length() * 0.30103)}+ digits>"
        elif isinstance(given, dict):
            shown = "a table"
        else:
            shown = _SHOWN.repr(given)
        lines.append(f"{loc or '(root)'}: got {shown}; allowed: {_describe_allowed(err)}")
    return lines


_ENV_FIELD = re.compile(r'field "(\w+)"')


def _env_problem(exc: SettingsError) -> str:
    """pydantic-settings fails on a variable that must be JSON (a section, list or table
    given whole) and is not; its message names only the field, which is all we repeat."""
    found = _ENV_FIELD.search(str(exc))
    name = f"POLYBOT_{found.group(1).upper()}" if found else "a POLYBOT_* variable"
    return (
        f"{name}: an environment value for this setting is not valid JSON (a section, list "
        "or table set from one variable must be JSON; or set one value, e.g. "
        "POLYBOT_SIM__SEED=7)"
    )


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
        raise ConfigError(_format_errors(exc), source) from None
    except SettingsError as exc:
        raise ConfigError([_env_problem(exc)], source) from None
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
    if isinstance(url, str) and (parts := _url_parts(url)) is not None and parts[2]:
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


def masked_dump(settings: Settings) -> dict[str, Any]:
    """Settings as plain data with every secret masked (for `config show`)."""

    def walk(obj: Any) -> Any:
        if isinstance(obj, SecretStr):
            return "********" if obj.get_secret_value() else ""
        if isinstance(obj, BaseModel):
            return {k: walk(getattr(obj, k)) for k in type(obj).model_fields}
        if isinstance(obj, dict):
            return {k: walk(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [walk(v) for v in obj]
        if isinstance(obj, Path):
            return str(obj)
        if isinstance(obj, datetime):
            return obj.isoformat()
        return obj

    out = walk(settings)
    out["database_url"] = mask_url(settings.db_url)
    return out  # type: ignore[no-any-return]


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret in clear, for the log filter to mask; never for display.

    The database password is one too: a driver error may quote the URL it was given.
    """
    live = settings.live
    values = [
        s.get_secret_value()
        for s in (live.private_key, live.api_key, live.api_secret, live.api_passphrase)
        if s is not None
    ]
    parts = _url_parts(settings.db_url)
    if parts is not None and parts[2]:
        values += [parts[2], unquote(parts[2])]
    return [v for v in dict.fromkeys(values) if v]


def mask_url(url: str) -> str:
    """Hide a password in a database URL (postgresql://user:pw@host/db)."""
    parts = _url_parts(url)
    if parts is None:
        return url
    scheme, user, _, host = parts
    return f"{scheme}://{user}:********@{host}"


def _url_parts(url: str) -> tuple[str, str, str, str] | None:
    """(scheme, user, password as written, host part) of a URL with credentials, else None."""
    if "://" not in url or "@" not in url:
        return None
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user, _, password = creds.partition(":")
    return scheme, user, password, host
