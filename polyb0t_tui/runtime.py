"""The composition root: build every part of the engine once, from Settings, and wire them.

The daemon, the CLI, the (future) console, the backtester and the tests all go through
`build_runtime`, so there is exactly one way the parts fit together and no global state.
This module never imports Textual: the daemon must not pay for a UI.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.clock import Clock, SimClock, WallClock
from engine.config import Settings, masked_dump, secret_values
from engine.decision.cycle import DecisionCycle
from engine.decision.features import FeatureEngine, history_samples
from engine.decision.strategy.baseline import BaselinePredictor
from engine.decision.universe import UniverseFilter
from engine.execution.approvals import ApprovalProcessor
from engine.execution.intents import IntentStore
from engine.execution.paper import PaperExecutor
from engine.execution.portfolio import Portfolio
from engine.execution.routing import IntentRoute, PaperRoute, Route
from engine.feed.commands import EngineCommands
from engine.feed.link import LocalLink
from engine.feed.publisher import EngineView
from engine.file_modes import PRIVATE_DIR, make_private_dir, open_to_others
from engine.ids import IdGen, new_run_id
from engine.models import Mode
from engine.redact import Redactor
from engine.risk.manager import RiskManager
from engine.risk.thresholds import EdgeThresholds
from engine.run.inbox import EngineInbox
from engine.run.run_state import EngineControl
from engine.run.runner import Engine
from engine.run.step_errors import ErrorBudget
from engine.sources.base import MarketSource, TruthSource
from engine.sources.replay import ReplayError, ReplaySource
from engine.state.market_state import MarketState
from engine.storage import Database, RunStart, Store
from engine.storage.recorder import Recorder

if TYPE_CHECKING:  # the CLOB client (and its web3 stack) loads only for real orders
    from engine.execution.clob_settings import ClobSettings
    from engine.execution.live_worker import LiveWorker


log = logging.getLogger("polyb0t.storage")


class StartupError(RuntimeError):
    """The runtime cannot be built as configured; the message says what to change."""


@dataclass(slots=True)
class Storage:
    db: Database
    store: Store
    intents: IntentStore


@dataclass(slots=True)
class Runtime:
    settings: Settings
    mode: Mode
    run_id: str
    clock: Clock
    storage: Storage
    source: MarketSource
    state: MarketState
    portfolio: Portfolio
    control: EngineControl
    cycle: DecisionCycle
    engine: Engine
    commands: EngineCommands
    view: EngineView
    link: LocalLink

    @property
    def speed(self) -> float | None:
        return self.engine.speed


def open_storage(settings: Settings, create: bool = True) -> Storage:
    """The database, ready to use: created or migrated if `create`, else only checked.

    Readers (`status`, `report`, `intents list`) pass `create=False`: they must not make a
    data dir or an empty database as a side effect, so a missing one is `DatabaseMissing`
    naming the path. A data dir or database file that others may read gets a warning line
    (see `engine.file_modes`); new ones are created private.
    """
    if create:  # the data dir also holds models and tokens, whatever the database
        try:
            make_private_dir(settings.data_dir)
        except OSError as exc:
            raise StartupError(
                f"cannot create data_dir {settings.data_dir}: {exc.strerror}; set data_dir "
                "(POLYBOT_DATA_DIR) to a writable directory"
            ) from None
    db = Database(settings.db_url, create=create, redact=Redactor(secret_values(settings)))
    for warning in private_data_warnings(settings, db):
        log.warning(warning)
    if create:
        db.init()
    else:
        db.require_ready()
    return Storage(db=db, store=Store(db), intents=IntentStore(db))


def private_data_warnings(settings: Settings, db: Database) -> list[str]:
    """The data dir and database files that other users may read (also `polyb0t doctor`)."""
    data_dir = open_to_others(settings.data_dir, PRIVATE_DIR)
    return ([data_dir] if data_dir else []) + db.files_open_to_others()


def sim_start(settings: Settings) -> float:
    """Simulated start: configured, else now (to the minute) so sim time reads like today."""
    if settings.sim.start is not None:
        return settings.sim.start.timestamp()
    return math.floor(time.time() / 60.0) * 60.0


def build_source(settings: Settings, start: float) -> MarketSource:
    if settings.source == "sim":
        from engine.sources.sim import SimExchange

        interval = settings.ml.sample_interval_seconds
        return SimExchange(settings.sim, start, batches=True, sample_interval_seconds=interval)
    if settings.source == "polymarket":
        from engine.sources.polymarket import PolymarketSource

        return PolymarketSource(settings.polymarket)
    raise StartupError(f"unknown source {settings.source!r}")


def source_and_start(settings: Settings, storage: Storage) -> tuple[MarketSource, float]:
    """The source and the engine time it starts at: a replay starts where its recording did,
    the sim at `sim.start` (or now), a live source now."""
    if settings.source == "replay":
        try:
            replay = ReplaySource(storage.store, settings.replay_run)
        except ReplayError as exc:
            raise StartupError(str(exc)) from None
        return replay, replay.start_ts
    start = sim_start(settings) if settings.source == "sim" else time.time()
    return build_source(settings, start), start


def truth_source(settings: Settings, source: MarketSource) -> TruthSource | None:
    """The source, as the recorder's truth, where it knows one and `ml.record_truth` is on:
    only the recorder gets it (the cycle, the state and the models never do)."""
    if settings.ml.record_truth and isinstance(source, TruthSource):
        return source
    return None


def book_depth(settings: Settings) -> int:
    """Levels kept per side. Real books run deep, and a `price_change` that empties a top
    level must leave the next ones known, so the live feed keeps more than the sim shows."""
    levels = settings.sim.book_levels if settings.source == "sim" else 32
    return max(levels, settings.features.depth_levels)


def mode_label(mode: Mode, dry_run: bool) -> str:
    if mode is Mode.PAPER:
        return "PAPER"
    return "LIVE DRY-RUN" if dry_run else "LIVE"


def clob_settings(settings: Settings) -> ClobSettings:
    """The live executor's knobs: hosts from [polymarket], the rest from [live]."""
    from engine.execution.clob_settings import ClobSettings

    live = settings.live
    return ClobSettings(
        host=settings.polymarket.clob_url,
        geoblock_url=settings.polymarket.geoblock_url,
        data_url=settings.polymarket.data_url,
        chain_id=live.chain_id,
        order_type=live.order_type,
        gtd_seconds=live.gtd_seconds,
        request_timeout_s=live.request_timeout_seconds,
        post_timeout_s=live.post_timeout_seconds,
        post_attempts=live.post_attempts,
        lookup_attempts=live.lookup_attempts,
        backoff_base_s=live.backoff_base_seconds,
        backoff_max_s=live.backoff_max_seconds,
        max_retry_after_s=live.retry_after_max_seconds,
        lookup_grace_s=live.lookup_grace_seconds,
        poll_interval_s=live.order_poll_seconds,
        heartbeat_interval_s=live.heartbeat_seconds or None,
        use_server_time=live.use_server_time,
        max_clock_skew_s=live.max_clock_skew_seconds,
        reconcile_lookback_s=live.reconcile_lookback_seconds,
    )


def check_live(settings: Settings, live: bool) -> None:
    """Real orders need --live, dry_run off, a private key, and a real exchange's ids."""
    if live and not settings.live.dry_run and settings.source != "polymarket":
        raise StartupError(
            "live orders with dry_run = false need --source polymarket (intents must carry "
            f"the exchange's own market and token ids, not {settings.source}'s)"
        )


def build_live_execution(
    settings: Settings, live: bool, storage: Storage, run_id: str, clock: Clock
) -> LiveWorker | None:
    """The CLOB executor, in its worker thread, when real orders are allowed; None for dry
    runs and paper. What it learns of the account reaches the books through the step."""
    if not live or settings.live.dry_run:
        return None
    from engine.execution.clob_executor import LiveSetupError, build_live_executor
    from engine.execution.live_account import DeferredAccount
    from engine.execution.live_worker import LiveWorker

    account = DeferredAccount()
    try:
        executor = build_live_executor(
            settings,
            live=live,
            store=storage.intents,
            account=account,
            run_id=run_id,
            clob=clob_settings(settings),
        )
    except LiveSetupError as exc:
        raise StartupError(str(exc)) from None
    return LiveWorker(executor, account, clock.now)


def build_runtime(
    settings: Settings,
    *,
    live: bool = False,
    speed: float | None = 1.0,
    storage: Storage | None = None,
) -> Runtime:
    check_live(settings, live)
    mode = Mode.LIVE if live else Mode.PAPER
    storage = storage or open_storage(settings)
    run_id = new_run_id()
    source, start = source_and_start(settings, storage)
    clock: Clock = SimClock(start) if settings.source in ("sim", "replay") else WallClock()

    interval = settings.loop_interval_seconds
    state = MarketState(
        depth=book_depth(settings), history=history_samples(settings.features, interval)
    )
    portfolio = Portfolio(settings.risk.bankroll)
    control = EngineControl()
    inbox = EngineInbox()  # requests to the engine step, the one owner of its state
    ids = IdGen(run_id)
    thresholds = EdgeThresholds(settings.strategy.edge_threshold, settings.strategy.exit_edge)
    risk = RiskManager(settings.risk, thresholds, ids)

    executor: PaperExecutor | None = None
    approvals: ApprovalProcessor | None = None
    route: Route
    if mode is Mode.PAPER:
        executor = PaperExecutor(portfolio, state, settings.paper.latency_ms / 1000.0)
        route = PaperRoute(executor)
    else:
        route = IntentRoute(storage.intents, run_id, settings.live.intent_expiry_seconds)
        approvals = ApprovalProcessor(
            storage.intents,
            state,
            threshold=thresholds,
            tolerance=settings.live.approval_price_tolerance,
            expiry_seconds=settings.live.intent_expiry_seconds,
            dry_run=settings.live.dry_run,
            executor=build_live_execution(settings, live, storage, run_id, clock),
            run_id=run_id,
            portfolio=portfolio,
            control=control,
        )

    cycle = DecisionCycle(
        state=state,
        universe=UniverseFilter(settings.universe, settings.features.depth_levels),
        features=FeatureEngine(settings.features, interval),
        predictor=BaselinePredictor(settings.strategy),
        risk=risk,
        portfolio=portfolio,
        route=route,
        control=control,
        thresholds=thresholds,
        max_signals=settings.strategy.max_signals_per_cycle,
        stale_seconds=settings.risk.stale_data_seconds,
    )
    recorder = Recorder(
        storage.store,
        run_id=run_id,
        state=state,
        snapshot_interval=settings.snapshot_interval_seconds,
        snapshot_max_interval=settings.snapshot_max_interval_seconds,
        control=control,
        repeat_signal_seconds=settings.strategy.repeat_signal_seconds,
        record=settings.record,
        run=RunStart(
            mode=mode.value,
            source=settings.source,
            seed=settings.sim.seed if settings.source == "sim" else None,
            settings_json=json.dumps(masked_dump(settings), default=str),
        ),
        depth_levels=settings.features.depth_levels,
        truth=truth_source(settings, source),
        truth_interval=settings.ml.sample_interval_seconds,
    )
    view = EngineView(
        state=state,
        cycle=cycle,
        portfolio=portfolio,
        control=control,
        intents=storage.intents if mode is Mode.LIVE else None,
        mode_label=mode_label(mode, settings.live.dry_run),
        source_name=settings.source,
        predictor_name=cycle.predictor.name,
        result_linger_seconds=settings.ui.result_linger_seconds,
    )
    engine = Engine(
        run_id=run_id,
        clock=clock,
        source=source,
        state=state,
        cycle=cycle,
        portfolio=portfolio,
        executor=executor,
        approvals=approvals,
        recorder=recorder,
        interval=interval,
        speed=speed,
        intent_poll_seconds=settings.live.intent_poll_seconds,
        view=view,
        inbox=inbox,
        error_budget=ErrorBudget(settings.risk.error_window_steps, settings.risk.error_limit),
    )
    commands = EngineCommands(storage.intents, clock, control)
    link = LocalLink(
        view,
        commands,
        inbox,
        threshold=thresholds,
        history=storage.store.mid_history,
        tolerance=settings.live.approval_price_tolerance,
    )
    return Runtime(
        settings=settings,
        mode=mode,
        run_id=run_id,
        clock=clock,
        storage=storage,
        source=source,
        state=state,
        portfolio=portfolio,
        control=control,
        cycle=cycle,
        engine=engine,
        commands=commands,
        view=view,
        link=link,
    )
