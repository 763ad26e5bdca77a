"""The settings' sections: one model per part of the system, each knob with its default and
its limits (the top level, `Settings`, gathers them in `engine.config.settings`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from engine.config.bounds import check_numbers
from engine.limits import MAX_SIM_MARKETS, SEED_MAX

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


SIM_TIME_CONSTANT_FACTOR = 3.0  # the sim's time constants >= this x ml.sample_interval_seconds
_SIM_TIME_CONSTANTS = (  # (setting, what it is) of each time constant that rule covers
    ("news_lag_seconds", "news reaction"),
    ("jump_reversal_seconds", "jump reversal in thin markets"),
    ("insider_lead_seconds", "informed traders' lead"),
    ("noise_decay_seconds", "price noise decay"),
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _bounded(cls, value: Any, info: ValidationInfo) -> Any:
        return check_numbers(value, info.field_name or "")


class SimSettings(_Section):
    """The simulated exchange (`--source sim`).

    Its traded prices carry planted effects, the mispricing a model can learn (the module
    docstring of engine/sources/sim/effects.py gives each one's formula). Every effect's size
    is drawn per seed, inside the sim, from a prior set here: its mean plus sd x N(0, 1), or
    exactly the mean with probability `effect_zero_share`. The means default to 0 (no
    effect) and the draws take either sign, so no fixed correction wins across seeds; sd = 0
    pins an effect at its mean (what a test that needs a known edge does). Every time
    constant must be at least 3 x `ml.sample_interval_seconds` (checked at start-up).
    """

    seed: int = Field(42, ge=0, le=SEED_MAX)
    markets: int = Field(300, ge=1, le=MAX_SIM_MARKETS)
    start: datetime | None = None  # simulated start time; default: today 00:00 UTC
    step_seconds: float = Field(10.0, gt=0)  # world step; books change at most this often
    book_levels: int = Field(8, ge=1, le=50)
    event_group_share: float = Field(0.3, ge=0, le=1)  # share of markets in multi-outcome events
    new_listings_per_day: float = Field(5.0, ge=0)
    jump_rate_per_day: float = Field(0.5, ge=0)  # news jumps per market per day

    # --- the planted mispricing ---
    # False: every effect below and the price noise off; the fair price is the truth, so the
    # book's mid is the truth on the tick grid (within the requote threshold of one tick).
    mispricing: bool = True
    # Chance that a drawn effect parameter is exactly its prior's mean (no effect, by default).
    effect_zero_share: float = Field(0.25, ge=0, le=1)
    # Recalibration per category: log of the slope of price logit on truth logit (< 0:
    # prices compressed toward 0.5, > 0: overconfident).
    calibration_log_slope_mean: float = Field(0.0, ge=-2, le=2)
    calibration_log_slope_sd: float = Field(0.3, ge=0, le=2)
    # Favourite-longshot bias growing as liquidity falls: the price logit is shrunk by
    # exp(-bias x thinness), thinness 0 at 100,000 USDC of liquidity, 1 at 1,000 (> 0:
    # longshots rich, favourites cheap in thin books; < 0: the reverse). One per seed.
    longshot_bias_mean: float = Field(0.0, ge=-2, le=2)
    longshot_bias_sd: float = Field(0.3, ge=0, le=2)
    # Reaction to news per category: the share of each truth move that reaches the price only
    # over `news_lag_seconds` (> 0: slow reaction; < 0: overshoot, then revert); |share| <= 1.
    news_lag_share_mean: float = Field(0.0, ge=-1, le=1)
    news_lag_share_sd: float = Field(0.4, ge=0, le=2)
    news_lag_seconds: float = Field(3600.0, gt=0)  # time constant of the late share's arrival
    # News jumps in thin markets: the price moves an extra share x thinness of the jump, which
    # reverts over `jump_reversal_seconds` (> 0: overreaction, partial reversal; < 0: under).
    jump_overreaction_mean: float = Field(0.0, ge=-2, le=2)
    jump_overreaction_sd: float = Field(0.5, ge=0, le=2)
    jump_reversal_seconds: float = Field(1800.0, gt=0)
    # Informed traders learn each news jump `insider_lead_seconds` before the price shows it:
    # meanwhile that market's prints come more often and the chance that one is a buy moves
    # by the lean toward the coming move (< 0: against it); |lean| <= 0.5. One per seed.
    insider_lean_mean: float = Field(0.0, ge=-0.5, le=0.5)
    insider_lean_sd: float = Field(0.25, ge=0, le=1)
    insider_lead_seconds: float = Field(1800.0, gt=0)
    # Price noise: shocks (a big order, a rumour), larger in thin books, of stationary sd
    # about this much probability at p = 0.5, fading with `noise_decay_seconds`.
    price_noise: float = Field(0.01, ge=0, le=0.2)
    noise_decay_seconds: float = Field(1800.0, gt=0)

    def time_constant_problems(self, sample_interval_seconds: float) -> list[str]:
        """One line per time constant shorter than `SIM_TIME_CONSTANT_FACTOR` samples.

        An effect that fades between two samples is invisible to a model fed samples, and
        one that lives a sample or two cannot be told from noise: hence the factor. Nothing
        to check with the mispricing off.
        """
        if not self.mispricing:
            return []
        floor = SIM_TIME_CONSTANT_FACTOR * sample_interval_seconds
        return [
            f"sim.{name} = {getattr(self, name):g} s ({what}) must be at least "
            f"{SIM_TIME_CONSTANT_FACTOR:g} x ml.sample_interval_seconds = {floor:g} s"
            for name, what in _SIM_TIME_CONSTANTS
            if getattr(self, name) < floor
        ]


class MlSettings(_Section):
    """What the engine collects for the models (`ml/`) and how they are validated."""

    # Engine time between two samples of a market (feature rows, the sim's truth). The sim's
    # effects must live at least 3 samples (`sim.*_seconds` >= 3 x this).
    sample_interval_seconds: float = Field(300.0, gt=0, le=86_400)
    # Validation rows start at least this long after a model's training cut-off, so that no
    # label (the longest horizon: 24 h) straddles it.
    embargo_seconds: float = Field(86_400.0, ge=0)
    # Store the hidden P(YES) of a source that knows it (the sim) every sample interval, in
    # `sim_truth`, for validation; it never reaches the engine's state or a model.
    record_truth: bool = True


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

    edge_threshold: float = Field(0.05, gt=0, lt=1)  # net edge to open or add (BUY)
    # Net edge to close: a held token is sold once its bid, after the fee, pays this much
    # over the model's probability of it (0: as soon as holding is no longer worth it).
    exit_edge: float = Field(0.0, ge=0, lt=1)
    microprice_weight: float = Field(1.0, ge=0, le=1)  # 0: mid, 1: microprice
    # Undo a favourite-longshot bias of this strength (< 0: prices too extreme). 0, off: it
    # is to be fitted from data (the ML's, later) or set by a person who measured it; no
    # default here copies a simulator parameter.
    longshot_correction: float = Field(0.0, ge=-1, lt=1)
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
    # New BUY cost committed within any hour, of equity: the budget is spread over the day
    # instead of spent on the first cycle's ideas, leaving room for better ones later.
    max_deploy_per_hour_pct: float = Field(0.1, gt=0, le=1)
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
    and markets (the money records and what the ML's labels come from), the backfilled
    price_history and the simulator's recorded truth (sim_truth, what validation scores
    against)."""

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
