"""Live execution of approved intents on Polymarket's CLOB, at most once per intent.

The path of one approved intent (`execute`, handed over by
`engine.execution.approvals.ApprovalProcessor` after its re-check in the engine step, and run
in the live worker's own thread,
`engine.execution.live_worker`, never in the step):

1. market rules fetched fresh (tick, neg-risk, minimum), the order planned and refused before
   anything is signed if it breaks a rule (`clob_orders`); a network failure here leaves the
   intent APPROVED for the next pass;
2. the order is signed locally; its EIP-712 hash is the exchange's order id;
3. claim: APPROVED -> SUBMITTED *with that hash stored*, in one conditional statement. If the
   claim fails someone else has the intent and nothing happens;
4. POST /order. Every re-send is the same signed order (same hash), which the exchange refuses
   as "Duplicated" if it already has it, and before any re-send after a timeout, a dropped
   connection or a 5xx, the order is looked up (open orders, trades): one intent never yields
   two orders. A 429 waits its Retry-After; a 4xx is a refusal (FAILED with the exchange's
   words); an outcome still unknown after the attempts leaves the intent SUBMITTED;
5. the order is resolved from `/data/trades` (`reconcile.decide`): FILLED / PARTIAL, FAILED
   with a reason, or still SUBMITTED while it rests. The final state, the order row and its
   fills are written in one transaction (`IntentStore.conclude`); only then are the fills
   handed to the account (`live_account`), which the engine step applies to its books.

`poll` resolves SUBMITTED intents (a crash, an unknown outcome, a resting order) by looking
them up, never by posting; the first `poll` also connects, reconciles the account (open
orders, recent trades, the cash balance, and the tokens already held, which the books adopt,
read again by later polls if the Data API did not answer), stores from the exchange any order
and fills missing for a recent FILLED / PARTIAL intent, and starts the heartbeat. Fills are
booked only by whoever wins the SUBMITTED -> final transition, so two engines on one database
never both book them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import TypeVar

import httpx

from engine.config import LiveSettings, Settings
from engine.execution.clob_answers import (
    AnswerError,
    CancelAnswer,
    PostAnswer,
    parse_cancel_answer,
    parse_post_answer,
)
from engine.execution.clob_client import (
    JSON,
    ClobError,
    ClobSession,
    SignedOrder,
    backoff_delay,
)
from engine.execution.clob_fills import to_fill
from engine.execution.clob_heartbeat import Heartbeat
from engine.execution.clob_orders import OrderRefused, plan_order
from engine.execution.clob_settings import ClobSettings
from engine.execution.clob_wallet import WalletError, WalletKeys
from engine.execution.held_positions import parse_positions
from engine.execution.intents import IntentRecord, IntentStore
from engine.execution.live_account import (
    AdoptHoldings,
    BookedAccount,
    BookFills,
    CapCash,
    LiveAccount,
)
from engine.execution.portfolio import Portfolio
from engine.execution.reconcile import (
    Decision,
    OrderLookup,
    Target,
    decide,
    known_order_ids,
    lookup_order,
    reconcile_account,
    with_retries,
)
from engine.models import ExecutionReport, IntentState, OrderRequest, TradeIntent

T = TypeVar("T")
log = logging.getLogger("polyb0t.live")

_STATUS = {
    IntentState.FILLED: "filled",
    IntentState.PARTIAL: "partial",
    IntentState.FAILED: "unfilled",
}


class LiveSetupError(RuntimeError):
    """Live execution cannot be set up as configured; the message says what to change."""


@dataclass(frozen=True, slots=True)
class PostOutcome:
    """What sending one signed order came to."""

    accepted: bool = False  # the exchange has the order
    refused: str | None = None  # it does not, and said why
    answer: PostAnswer | None = None  # the POST answer, when one came
    lookup: OrderLookup | None = None  # a lookup made on the way, if it found the order

    @property
    def unknown(self) -> bool:
        return not self.accepted and self.refused is None


class ClobExecutor:
    """Carries approved intents out on the CLOB (driven by `live_worker.LiveWorker`); what it
    learns of the account goes to `account` as effects."""

    def __init__(
        self,
        session: ClobSession,
        store: IntentStore,
        settings: ClobSettings,
        account: LiveAccount | None = None,
        *,
        run_id: str = "",
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self.store = store
        self.settings = settings
        self.account = account
        self.run_id = run_id  # fills and orders are stored under the run that executes
        self._sleep = sleep
        self._wall = wall_clock
        self._started = False
        self._reports: list[ExecutionReport] = []
        self._targets: dict[str, Target] = {}  # order id -> what counts as filled
        self._fee_exponents: dict[str, Decimal] = {}  # order id -> its market's fee exponent
        self._accepted: set[str] = set()  # order ids the exchange confirmed it has
        self._next_poll: dict[str, float] = {}
        self._next_start = -float("inf")  # a failed start is retried from then on
        self._holdings_due: float | None = None  # positions held unread: try again then
        self._first_start: float | None = None  # this run's first attempt to start
        self._not_ready = ""  # why the last start failed
        self.heartbeat: Heartbeat | None = None
        if settings.rests and settings.heartbeat_interval_s:
            self.heartbeat = Heartbeat(session.heartbeat, settings.heartbeat_interval_s)

    def __repr__(self) -> str:
        return f"ClobExecutor({self.session!r}, order_type={self.settings.order_type})"

    # --- life --------------------------------------------------------------------------------

    def start(self, now: float) -> list[str]:
        """Connect, reconcile SUBMITTED intents and the account, start the heartbeat.
        Idempotent; raises ClobError when the exchange cannot be reached."""
        if self._started:
            return []
        if self._first_start is None:
            self._first_start = now
        self.session.connect()
        # Intents first: fills they book are already in the exchange's balance, which the
        # account step then caps the engine's cash at.
        lines = []
        for intent in self._submitted():
            self._next_poll[intent.intent_id] = now + self.settings.poll_interval_s
            lines.append(self._resolve(intent, now))
        lines += self._reconcile_account(now)
        if self.heartbeat is not None:
            self.heartbeat.start()
        self._started = True
        return lines

    def close(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.stop()
        self.session.close()

    def _ensure_started(self, now: float) -> tuple[bool, list[str]]:
        """(started, lines): start-up lines, or why it is not ready; attempts are spaced by
        the poll interval so an unreachable exchange is not hammered every engine step."""
        if self._started:
            return True, []
        if now < self._next_start:
            return False, []
        try:
            return True, self.start(now)
        except ClobError as exc:
            self._next_start = now + self.settings.poll_interval_s
            self._not_ready = str(exc)
            return False, [f"live executor not ready: {exc}"]

    def _reconcile_account(self, now: float) -> list[str]:
        recent = [
            i
            for i in self.store.list(limit=None)
            if (i.updated_ts or i.created_ts) >= now - self.settings.reconcile_lookback_s
            or not i.state.is_terminal
        ]
        known = known_order_ids(self.store, recent)
        try:
            since = self.session.server_time() - int(self.settings.reconcile_lookback_s)
        except ClobError:
            since = None
        report = self._read(lambda: reconcile_account(self.session, known, since))
        lines = [f"reconcile: {line}" for line in report.lines()]
        lines += self._repair_concluded(recent, now)
        if self.account is not None and report.collateral is not None:
            lines += self.account.apply(CapCash(report.collateral))
        if self.account is not None:
            lines += self._adopt_holdings(now)
        return lines

    def _repair_concluded(self, recent: list[TradeIntent], now: float) -> list[str]:
        """Recent FILLED / PARTIAL intents whose order or fills are missing from the database
        (a database written by a polyb0t that stored them apart from the intent's state, and
        lost them in a crash) get them from the exchange's trades. Their shares are not booked
        on this run's portfolio: the holdings read next count them."""
        lines = []
        for intent in recent:
            if intent.state not in (IntentState.FILLED, IntentState.PARTIAL):
                continue
            record = self.store.get_record(intent.intent_id)
            if record is None or record.order_id is None or self.store.has_order(record.order_id):
                continue
            oid, token = record.order_id, intent.token_id
            try:
                lookup = self._read(partial(lookup_order, self.session, oid, token))
            except ClobError as exc:
                lines.append(
                    f"reconcile: intent {intent.intent_id}: fills missing, not read ({exc})"
                )
                continue
            exponent = self._fee_exponent(intent.market_id)
            fills = [
                f
                for f in (to_fill(x, intent, oid, now, exponent) for x in lookup.fills)
                if f is not None
            ]
            status = _STATUS[intent.state]
            self.store.store_execution(
                ExecutionReport(_order_of(intent, oid, now), fills, status, intent.reason),
                record.run_id,
            )
            lines.append(
                f"reconcile: intent {intent.intent_id} was {intent.state.value} but its order "
                f"and fills were missing: {len(fills)} fill(s) stored from the exchange"
            )
        return lines

    def _adopt_holdings(self, now: float) -> list[str]:
        """Shares the funder holds from before this run go to the account (the engine's
        books), so the risk limits count them. Unreadable, they are read again a poll
        interval later (`_holdings_again`)."""
        assert self.account is not None
        try:
            held = parse_positions(self._read(self.session.positions))
        except (ClobError, AnswerError) as exc:
            self._holdings_due = now + self.settings.poll_interval_s
            return [
                f"reconcile: positions held unknown ({exc}); until they are read, the risk "
                "limits do not count tokens bought before this run"
            ]
        self._holdings_due = None
        return self.account.apply(AdoptHoldings(tuple(held), now, self._first_start))

    def _holdings_again(self, now: float, submitted: list[TradeIntent]) -> list[str]:
        """The positions read again after they could not be at start-up. Not while an order
        is in flight: its fills may be on the exchange and not yet on the engine's books,
        and taking them in as held would count them twice."""
        if self.account is None or self._holdings_due is None or now < self._holdings_due:
            return []
        if submitted:
            return []
        return self._adopt_holdings(now)

    def read_holdings_soon(self, now: float) -> None:
        """Read the positions held again at the next poll (the books were found to disagree
        with the exchange)."""
        self._holdings_due = now

    # --- the approvals interface --------------------------------------------------------------

    def poll(self, now: float) -> list[str]:
        """Resolve SUBMITTED intents that are due a look (connecting first if need be)."""
        ok, lines = self._ensure_started(now)
        if not ok:
            return lines
        submitted = self._submitted()
        lines += self._holdings_again(now, submitted)
        for intent in submitted:
            if now < self._next_poll.get(intent.intent_id, -float("inf")):
                continue
            self._next_poll[intent.intent_id] = now + self.settings.poll_interval_s
            lines.append(self._resolve(intent, now))
        return lines

    def execute(self, intent: TradeIntent, now: float) -> str:
        """Send one APPROVED intent (already re-checked); a log line says what happened."""
        iid = intent.intent_id
        ok, lines = self._ensure_started(now)
        if not ok:
            return f"intent {iid} waits: live executor not ready ({self._not_ready})"
        for line in lines:  # start-up lines, when an execute comes before any poll
            log.info(line)
        try:
            rules = self._read(lambda: self.session.market_rules(intent.market_id))
            plan = plan_order(
                intent,
                rules,
                self.settings.order_type,
                wall_now=self._wall(),
                gtd_seconds=self.settings.gtd_seconds,
            )
            signed = self.session.sign(plan)
        except OrderRefused as exc:
            return self._fail_unsent(intent, now, f"refused before sending: {exc}")
        except ClobError as exc:
            if exc.transient:
                return f"intent {iid} waits: exchange unreachable ({exc})"
            return self._fail_unsent(intent, now, f"refused before sending: {exc}")
        claimed = self.store.transition(
            iid,
            IntentState.APPROVED,
            IntentState.SUBMITTED,
            now,
            order_id=signed.order_id,
            executed_ts=now,
        )
        if not claimed:
            return f"intent {iid} was taken by another process"
        self._targets[signed.order_id] = Target(plan.size, plan.budget)
        self._fee_exponents[signed.order_id] = rules.fee_exponent
        log.info(
            "intent %s: sending %s %s %s at %s (order %s)%s",
            iid,
            plan.order_type,
            plan.side.value,
            f"${plan.budget}" if plan.budget is not None else f"{plan.size} sh",
            plan.price,
            signed.order_id,
            f"; {plan.note}" if plan.note else "",
        )
        return self._conclude(intent, signed, self._send(signed), now)

    def take_reports(self) -> list[ExecutionReport]:
        """Reports of orders that ended since the last call (for the recorder)."""
        out, self._reports = self._reports, []
        return out

    # --- sending -----------------------------------------------------------------------------

    def _send(self, signed: SignedOrder) -> PostOutcome:
        last: ClobError | None = None
        maybe_sent = False
        for attempt in range(self.settings.post_attempts):
            if last is not None:
                if last.kind != "unsent" and last.status != 429:
                    found = self._lookup_quietly(signed)
                    if found is None:
                        return PostOutcome()  # cannot tell: never re-send blind
                    if found.found:
                        return PostOutcome(accepted=True, lookup=found)
                self._sleep(backoff_delay(attempt - 1, self.settings, last.retry_after))
            try:
                answer = self.session.post(signed)
            except ClobError as exc:
                if _duplicate(exc):
                    return PostOutcome(accepted=True)
                if not exc.transient:
                    return PostOutcome(refused=exc.error_text or str(exc))
                log.warning("order %s: attempt %d: %s", signed.order_id[:12], attempt + 1, exc)
                maybe_sent = maybe_sent or exc.kind == "maybe_sent"
                last = exc
                continue
            parsed = parse_post_answer(answer)
            if parsed.verdict == "refused":
                return PostOutcome(refused=parsed.error)
            if parsed.verdict == "unknown":  # it may exist: looked up, never posted again
                log.warning("order %s: unclear answer: %s", signed.order_id[:12], parsed.error)
                return PostOutcome()
            if parsed.order_id.lower() != signed.order_id.lower():
                log.warning(
                    "order %s: the exchange answered for order %s; ours is looked up by its hash",
                    signed.order_id[:12],
                    parsed.order_id[:12],
                )
            return PostOutcome(accepted=True, answer=parsed)
        found = self._lookup_quietly(signed)
        if found is not None and found.found:
            return PostOutcome(accepted=True, lookup=found)
        if found is None or maybe_sent:
            return PostOutcome()
        assert last is not None
        return PostOutcome(
            refused=f"the exchange failed {self.settings.post_attempts} times: {last}"
        )

    def _lookup_quietly(self, signed: SignedOrder) -> OrderLookup | None:
        try:
            return self._read(
                lambda: lookup_order(self.session, signed.order_id, signed.plan.token_id)
            )
        except ClobError as exc:
            log.warning("order %s: lookup failed: %s", signed.order_id[:12], exc)
            return None

    def _conclude(
        self, intent: TradeIntent, signed: SignedOrder, outcome: PostOutcome, now: float
    ) -> str:
        iid, oid = intent.intent_id, signed.order_id
        record = self.store.get_record(iid)
        if record is None:  # pragma: no cover - intents are never deleted
            return f"intent {iid} vanished"
        if outcome.refused is not None:
            return self._finish(
                record, Decision(IntentState.FAILED, f"exchange refused: {outcome.refused}"), now
            )
        if outcome.unknown:
            self._next_poll[iid] = now  # look again on the next poll
            return f"intent {iid}: outcome of order {oid} unknown; it will be looked up"
        self._accepted.add(oid)
        answer = outcome.answer
        if answer is not None and answer.status == "delayed":
            return f"intent {iid}: order {oid} accepted, matching delayed; looked up later"
        lookup = outcome.lookup
        trade_ids = list(answer.trade_ids) if answer is not None else []
        if lookup is None or trade_ids:
            try:
                lookup = self._read(
                    lambda: lookup_order(self.session, oid, signed.plan.token_id, trade_ids)
                )
            except ClobError as exc:
                return f"intent {iid}: order {oid} accepted; fills not read yet ({exc})"
        return self._decide_and_finish(record, lookup, now)

    # --- resolving ---------------------------------------------------------------------------

    def _submitted(self) -> list[TradeIntent]:
        return self.store.list(states=[IntentState.SUBMITTED], limit=None)

    def _resolve(self, intent: TradeIntent, now: float) -> str:
        record = self.store.get_record(intent.intent_id)
        if record is None or record.intent.state is not IntentState.SUBMITTED:
            return f"intent {intent.intent_id} already resolved"
        lookup = None
        if record.order_id is not None:
            oid, token = record.order_id, intent.token_id
            try:
                lookup = self._read(partial(lookup_order, self.session, oid, token))
            except ClobError as exc:
                return f"intent {intent.intent_id}: lookup failed ({exc}); trying again later"
        return self._decide_and_finish(record, lookup, now)

    def _decide_and_finish(
        self, record: IntentRecord, lookup: OrderLookup | None, now: float
    ) -> str:
        oid = record.order_id or ""
        target = self._targets.get(oid) or Target.of_intent(record.intent, self.settings.order_type)
        decision = decide(
            record,
            lookup,
            target,
            accepted=oid in self._accepted,
            now=now,
            grace_s=self.settings.lookup_grace_s,
        )
        return self._finish(record, decision, now)

    def _finish(self, record: IntentRecord, decision: Decision, now: float) -> str:
        """The intent's final state, its order and its fills, in one transaction (a crash
        leaves all of them or none: then the intent is still SUBMITTED and is looked up
        again); only then are the fills booked."""
        intent = record.intent
        iid = intent.intent_id
        if decision.state is None:
            return f"intent {iid} still submitted: {decision.reason}"
        report = None
        if record.order_id is not None:
            oid = record.order_id
            exponent = self._fee_exponents.get(oid)
            if exponent is None:  # sent before a restart: the plan's rules are gone
                exponent = self._fee_exponent(intent.market_id) if decision.fills else Decimal(1)
            fills = [
                f
                for f in (to_fill(x, intent, oid, now, exponent) for x in decision.fills)
                if f is not None
            ]
            reason = None if decision.state is IntentState.FILLED else decision.reason
            report = ExecutionReport(
                _order_of(intent, oid, now), fills, _STATUS[decision.state], reason, stored=True
            )
        moved = self.store.conclude(
            iid, IntentState.SUBMITTED, decision.state, now, decision.reason, report, self.run_id
        )
        if not moved:
            return f"intent {iid} was resolved by another process"
        self._next_poll.pop(iid, None)
        line = f"intent {iid} {decision.state.value}: {decision.reason}"
        if report is None:  # nothing was ever sent: no order to report
            return line
        oid = report.order.order_id
        self._targets.pop(oid, None)
        self._accepted.discard(oid)
        self._fee_exponents.pop(oid, None)
        self._reports.append(report)
        if self.account is not None and report.fills:
            for refused in self.account.apply(BookFills(oid, tuple(report.fills))):
                log.error(refused)
        return line

    def _fee_exponent(self, market_id: str) -> Decimal:
        """The market's fee exponent, for an order whose plan died with a restart; 1 (what
        every market has today) if the exchange cannot say, with a warning."""
        try:
            return self._read(lambda: self.session.market_rules(market_id)).fee_exponent
        except ClobError as exc:
            log.warning("market %s: fee exponent unknown (%s); assuming 1", market_id[:12], exc)
            return Decimal(1)

    def _fail_unsent(self, intent: TradeIntent, now: float, reason: str) -> str:
        moved = self.store.transition(
            intent.intent_id, IntentState.APPROVED, IntentState.FAILED, now, reason=reason
        )
        if not moved:
            return f"intent {intent.intent_id} was taken by another process"
        return f"intent {intent.intent_id} failed: {reason}"

    def _read(self, call: Callable[[], T]) -> T:
        return with_retries(
            call,
            self.settings.lookup_attempts,
            lambda attempt, exc: backoff_delay(attempt, self.settings, exc.retry_after),
            self._sleep,
        )

    # --- the exchange, for people and the doctor -------------------------------------------

    def open_orders(self, market: str | None = None) -> list[JSON]:
        self.session.connect()
        return self._read(lambda: self.session.open_orders(market=market))

    def trades(self, market: str | None = None) -> list[JSON]:
        self.session.connect()
        return self._read(lambda: self.session.trades(market=market))

    def cancel(self, order_ids: list[str]) -> CancelAnswer:
        """Cancel orders; SUBMITTED intents of cancelled orders resolve on the next poll."""
        self.session.connect()
        return parse_cancel_answer(self.session.cancel(order_ids))

    def cancel_all(self) -> CancelAnswer:
        self.session.connect()
        return parse_cancel_answer(self.session.cancel_all())


def _order_of(intent: TradeIntent, order_id: str, now: float) -> OrderRequest:
    """The order row of an intent sent as `order_id`."""
    return OrderRequest(
        order_id=order_id,
        ts=now,
        market_id=intent.market_id,
        token_id=intent.token_id,
        outcome=intent.outcome,
        side=intent.side,
        size=intent.size,
        limit_price=intent.limit_price,
        p_model=intent.p_model,
        edge=intent.edge,
        intent_id=intent.intent_id,
    )


def _duplicate(exc: ClobError) -> bool:
    """The exchange already has this exact signed order (its hash)."""
    return exc.status == 400 and "duplicated" in exc.error_text.lower()


def build_live_executor(
    settings: Settings | LiveSettings,
    *,
    live: bool,
    store: IntentStore,
    portfolio: Portfolio | None = None,
    account: LiveAccount | None = None,
    run_id: str = "",
    clob: ClobSettings | None = None,
    http: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ClobExecutor:
    """The live executor, or LiveSetupError saying why real orders cannot be sent.

    Real orders need all of: the engine running `--live` (`live=True`), `live.dry_run =
    false`, and a private key (API creds are derived from it when not configured), with a
    signature type and funder that fit together. No network here: the executor connects on
    its first `poll` (or `start`), from a worker thread.
    """
    cfg = settings.live if isinstance(settings, Settings) else settings
    if not live:
        raise LiveSetupError(
            "real orders need the engine to run with --live; without it nothing is sent"
        )
    if cfg.dry_run:
        raise LiveSetupError(
            "live.dry_run is true: approvals end EXECUTED_DRYRUN and nothing is sent; set "
            "live.dry_run = false (POLYBOT_LIVE__DRY_RUN=false) to send real orders"
        )
    try:
        keys = WalletKeys.from_settings(cfg)
    except WalletError as exc:
        raise LiveSetupError(str(exc)) from None
    clob = clob or ClobSettings()
    if account is None and portfolio is not None:  # effects applied at once (tests, tools)
        account = BookedAccount(portfolio, store)
    return ClobExecutor(
        ClobSession(keys, clob, http), store, clob, account, run_id=run_id, sleep=sleep
    )
