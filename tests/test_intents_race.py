"""Two OS processes act on the same intents at the same moment: exactly one wins each time.

This is the property live trading rests on: an intent is approved once and reaches the
exchange at most once, whoever else (a second terminal, the CLI, a restarted daemon) acts
on it concurrently. Each process opens its own `Database` on the same SQLite file or
PostgreSQL schema, as real processes do; a barrier lines them up before every call.
"""

from __future__ import annotations

import multiprocessing as mp
import traceback
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from engine.execution.intents import IntentStore
from engine.models import IntentState, Outcome, Side, TradeIntent
from engine.storage import Database

NOW = 1_767_225_600.0
ROUNDS = 8
RACERS = 2


def _race(url: str, ids: list[str], barrier: Barrier, results: Queue[object]) -> None:
    """Child process: approve then claim each intent, in lock-step with the other racer."""
    try:
        db = Database(url)
        store = IntentStore(db)
        outcome: list[tuple[bool, bool]] = []
        for intent_id in ids:
            barrier.wait(timeout=30)
            approved = store.approve(intent_id, NOW + 1)
            barrier.wait(timeout=30)
            claimed = store.claim_for_submit(intent_id, NOW + 2)
            outcome.append((approved, claimed))
        db.close()
        results.put(outcome)
    except BaseException:  # reported to the parent, which fails the test with it
        barrier.abort()
        results.put(traceback.format_exc())


def _intent(intent_id: str) -> TradeIntent:
    return TradeIntent(
        intent_id=intent_id,
        created_ts=NOW,
        expires_ts=NOW + 300,
        market_id="m1",
        token_id="tok",
        outcome=Outcome.YES,
        side=Side.BUY,
        size=10.0,
        limit_price=0.5,
        p_model=0.6,
        edge=0.08,
    )


def test_two_processes_approve_and_claim_each_intent_exactly_once(
    db: Database, db_url: str
) -> None:
    ids = [f"race-{n:04d}-intent" for n in range(ROUNDS)]
    store = IntentStore(db)
    store.create([_intent(i) for i in ids], run_id="run-1")

    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(RACERS)
    results: Queue[object] = ctx.Queue()
    procs = [ctx.Process(target=_race, args=(db_url, ids, barrier, results)) for _ in range(RACERS)]
    for p in procs:
        p.start()
    outcomes: list[list[tuple[bool, bool]]] = []
    for _ in procs:
        outcome = results.get(timeout=120)
        assert isinstance(outcome, list), outcome  # else: a child's traceback
        outcomes.append(outcome)
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0

    for n, intent_id in enumerate(ids):
        approvals = [outcome[n][0] for outcome in outcomes]
        claims = [outcome[n][1] for outcome in outcomes]
        assert sorted(approvals) == [False, True], (intent_id, approvals)
        assert sorted(claims) == [False, True], (intent_id, claims)
        assert store.require(intent_id).state is IntentState.SUBMITTED
