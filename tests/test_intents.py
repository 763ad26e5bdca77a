"""Intent store: the state machine, expiry, prefixes, reservations."""

from __future__ import annotations

import pytest

from engine.execution.intents import (
    EXPIRED_REASON,
    IllegalTransition,
    IntentExpired,
    IntentNotFound,
    IntentStore,
)
from engine.models import INTENT_TRANSITIONS, IntentState, Outcome, Side, TradeIntent
from engine.storage import Database

NOW = 1_767_225_600.0
TTL = 300.0
S = IntentState

LEGAL = sorted((a, b) for a, targets in INTENT_TRANSITIONS.items() for b in targets)
ILLEGAL = {a: [b for b in S if b not in INTENT_TRANSITIONS.get(a, frozenset())] for a in S}


def make_intent(
    intent_id: str,
    state: IntentState = S.PENDING,
    *,
    side: Side = Side.BUY,
    size: float = 10.0,
    limit_price: float = 0.40,
    created: float = NOW,
) -> TradeIntent:
    return TradeIntent(
        intent_id=intent_id,
        created_ts=created,
        expires_ts=created + TTL,
        market_id="m1",
        token_id="tok-yes",
        outcome=Outcome.YES,
        side=side,
        size=size,
        limit_price=limit_price,
        p_model=0.5,
        edge=0.08,
        state=state,
        question="Will it rain?",
    )


@pytest.fixture
def intents(db: Database) -> IntentStore:
    return IntentStore(db)


def _state(store: IntentStore, intent_id: str) -> IntentState:
    return store.require(intent_id).state


def test_create_get_round_trip(intents: IntentStore) -> None:
    intent = make_intent("0a1b2c3d4e5f")
    intents.create([intent], run_id="run-1")
    got = intents.get("0a1b2c3d4e5f")
    intent.updated_ts = NOW  # stored as created_ts when not given
    assert got == intent
    record = intents.get_record("0a1b2c3d4e5f")
    assert record is not None and record.run_id == "run-1" and record.order_id is None
    assert intents.get("ffffffffffff") is None


@pytest.mark.parametrize(("start", "end"), LEGAL, ids=lambda s: s.value)
def test_every_legal_transition(intents: IntentStore, start: S, end: S) -> None:
    intents.create([make_intent("intent-0001", start)], "run-1")
    assert intents.transition("intent-0001", start, end, NOW + 5, reason="why")
    got = intents.require("intent-0001")
    assert (got.state, got.updated_ts, got.reason) == (end, NOW + 5, "why")
    # The same move again finds the intent elsewhere: refused without an error.
    assert not intents.transition("intent-0001", start, end, NOW + 6)


@pytest.mark.parametrize("start", list(S), ids=lambda s: s.value)
def test_every_illegal_transition_is_refused(intents: IntentStore, start: S) -> None:
    intents.create([make_intent("intent-0001", start)], "run-1")
    for end in ILLEGAL[start]:
        with pytest.raises(IllegalTransition) as err:
            intents.transition("intent-0001", start, end, NOW + 5)
        message = str(err.value)
        assert "intent-0001" in message and f"now {start.value}" in message
        assert _state(intents, "intent-0001") is start


def test_transition_from_a_set_of_states(intents: IntentStore) -> None:
    intents.create([make_intent("intent-0001", S.SUBMITTED)], "run-1")
    assert intents.transition(
        "intent-0001", {S.APPROVED, S.SUBMITTED}, S.FAILED, NOW, reason="edge gone"
    )
    assert _state(intents, "intent-0001") is S.FAILED
    with pytest.raises(IllegalTransition):  # PENDING -> FAILED is not allowed
        intents.transition("intent-0001", {S.APPROVED, S.PENDING}, S.FAILED, NOW)


def test_transition_of_unknown_intent(intents: IntentStore) -> None:
    with pytest.raises(IntentNotFound, match="nope-nope"):
        intents.transition("nope-nope", S.PENDING, S.APPROVED, NOW)


def test_approve_pending_once(intents: IntentStore) -> None:
    intents.create([make_intent("intent-0001")], "run-1")
    assert intents.approve("intent-0001", NOW + 10)
    assert not intents.approve("intent-0001", NOW + 11)
    got = intents.require("intent-0001")
    assert got.state is S.APPROVED and got.updated_ts == NOW + 10


def test_approve_after_expiry_expires_and_says_so(intents: IntentStore) -> None:
    intents.create([make_intent("intent-0001")], "run-1")
    with pytest.raises(IntentExpired, match="intent-0001 expired at") as err:
        intents.approve("intent-0001", NOW + TTL)
    assert "EXPIRED" in str(err.value)
    got = intents.require("intent-0001")
    assert got.state is S.EXPIRED and got.reason == EXPIRED_REASON


def test_approve_refuses_non_pending(intents: IntentStore) -> None:
    intents.create([make_intent("intent-0001", S.REJECTED)], "run-1")
    assert not intents.approve("intent-0001", NOW)
    assert _state(intents, "intent-0001") is S.REJECTED


def test_reject_records_reason(intents: IntentStore) -> None:
    intents.create([make_intent("intent-0001"), make_intent("intent-0002", S.APPROVED)], "r")
    assert intents.reject("intent-0001", NOW, "too big")
    assert intents.require("intent-0001").reason == "too big"
    assert not intents.reject("intent-0002", NOW, "changed my mind")
    assert _state(intents, "intent-0002") is S.APPROVED


def test_expire_due_moves_only_pending_past_deadline(intents: IntentStore) -> None:
    intents.create(
        [
            make_intent("old-pending", created=NOW - TTL - 1),
            make_intent("old-approved", S.APPROVED, created=NOW - TTL - 1),
            make_intent("fresh-pending", created=NOW),
        ],
        "run-1",
    )
    assert intents.expire_due(NOW) == ["old-pending"]
    assert intents.expire_due(NOW) == []
    assert _state(intents, "old-pending") is S.EXPIRED
    assert _state(intents, "old-approved") is S.APPROVED
    assert _state(intents, "fresh-pending") is S.PENDING
    assert intents.expire_due(NOW + TTL) == ["fresh-pending"]


def test_dry_run_path(intents: IntentStore) -> None:
    intents.create([make_intent("intent-0001")], "run-1")
    assert not intents.mark_dryrun("intent-0001", NOW)  # not approved yet
    assert intents.approve("intent-0001", NOW + 1)
    assert intents.mark_dryrun("intent-0001", NOW + 2)
    record = intents.get_record("intent-0001")
    assert record is not None
    assert record.intent.state is S.EXECUTED_DRYRUN and record.executed_ts == NOW + 2
    assert not intents.claim_for_submit("intent-0001", NOW + 3)


def test_submit_path_claims_once_and_keeps_order_id(intents: IntentStore) -> None:
    intents.create([make_intent("intent-0001")], "run-1")
    assert not intents.claim_for_submit("intent-0001", NOW)  # still PENDING
    intents.approve("intent-0001", NOW + 1)
    assert intents.claim_for_submit("intent-0001", NOW + 2)
    assert not intents.claim_for_submit("intent-0001", NOW + 3)
    assert intents.transition(
        "intent-0001", S.SUBMITTED, S.FILLED, NOW + 4, order_id="0xorder", executed_ts=NOW + 4
    )
    record = intents.get_record("intent-0001")
    assert record is not None
    assert (record.intent.state, record.order_id, record.executed_ts) == (
        S.FILLED,
        "0xorder",
        NOW + 4,
    )


def test_prefix_lookup(intents: IntentStore) -> None:
    intents.create(
        [make_intent("abcdef111111"), make_intent("abcdef222222"), make_intent("a_c%ef333333")],
        "run-1",
    )
    assert intents.require("abcdef1").intent_id == "abcdef111111"
    with pytest.raises(IntentNotFound, match="ambiguous") as err:
        intents.get("abcdef")
    assert "abcdef111111" in str(err.value) and "abcdef222222" in str(err.value)
    assert intents.get("abcde") is None  # too short for a prefix
    with pytest.raises(IntentNotFound, match="at least 6 characters"):
        intents.require("abcde")
    with pytest.raises(IntentNotFound, match="no intent"):
        intents.require("zzzzzzzz")
    # LIKE wildcards in a prefix are literal characters.
    assert intents.require("a_c%ef").intent_id == "a_c%ef333333"
    assert intents.get("a_cdef") is None
    # Every action accepts a prefix.
    assert intents.approve("abcdef2", NOW)
    assert _state(intents, "abcdef222222") is S.APPROVED
    assert intents.reject("abcdef1", NOW, "no")
    assert _state(intents, "abcdef111111") is S.REJECTED


def test_list_open(intents: IntentStore) -> None:
    intents.create(
        [
            make_intent("i-pending-buy", size=10, limit_price=0.40, created=NOW),
            make_intent("i-approved-buy", S.APPROVED, size=20, limit_price=0.50, created=NOW + 1),
            make_intent("i-pending-sell", side=Side.SELL, size=50, created=NOW + 2),
            make_intent("i-submitted", S.SUBMITTED, size=100, created=NOW + 3),
            make_intent("i-rejected", S.REJECTED, size=100, created=NOW + 4),
        ],
        "run-1",
    )
    intents.create([make_intent("i-other-run", size=5, limit_price=0.2, created=NOW + 5)], "r2")
    assert [i.intent_id for i in intents.open_intents(run_id="run-1")] == [
        "i-pending-buy",
        "i-approved-buy",
        "i-pending-sell",
        "i-submitted",
    ]
    assert [i.intent_id for i in intents.list(limit=2)] == ["i-other-run", "i-rejected"]
    assert [i.intent_id for i in intents.list(S.PENDING, run_id="run-1")] == [
        "i-pending-sell",
        "i-pending-buy",
    ]
    assert len(intents.list({S.REJECTED, S.SUBMITTED})) == 2
    assert intents.open_intents(run_id="none") == []
