"""The simulated exchange as a `MarketSource`: reproducibility, markets, listings, scale."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from typing import Any

import numpy as np
import pytest

from engine.config import CATEGORIES, SimSettings
from engine.events import BookSnapshot, MarketListed, SourceEvent
from engine.sources.base import MarketSource
from engine.sources.sim import SimExchange

START = 1_767_225_600.0  # 2026-01-01 00:00 UTC

FEES = {
    "crypto": 0.072,
    "sports": 0.03,
    "politics": 0.04,
    "tech": 0.04,
    "economics": 0.05,
    "culture": 0.05,
    "weather": 0.05,
    "geopolitics": 0.0,
}


def canon(ev: SourceEvent) -> tuple[Any, ...]:
    """An event as plain, comparable data (arrays become lists)."""
    fields = []
    for f in dataclasses.fields(ev):
        v = getattr(ev, f.name)
        if isinstance(v, np.ndarray):
            assert v.dtype == np.float64
            v = v.tolist()
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            v = dataclasses.astuple(v)
        fields.append(v)
    return (type(ev).__name__, *fields)


def run(ex: SimExchange, times: list[float]) -> list[tuple[Any, ...]]:
    return [canon(e) for t in times for e in ex.poll(t)]


def test_is_a_market_source() -> None:
    ex: MarketSource = SimExchange(SimSettings(markets=5), START)
    assert ex.name == "sim"


async def test_start_and_stop_are_harmless() -> None:
    ex = SimExchange(SimSettings(markets=5), START)
    await ex.start()
    assert len(ex.discover()) == 5
    await ex.stop()


def test_same_seed_and_polls_give_identical_events() -> None:
    s = SimSettings(markets=120, seed=7, new_listings_per_day=50)
    times = [START + 10 * k for k in range(80)]
    a = run(SimExchange(s, START), times)
    b = run(SimExchange(s, START), times)
    assert len(a) > 1000
    assert a == b


def test_events_do_not_depend_on_poll_granularity() -> None:
    s = SimSettings(markets=120, seed=11, new_listings_per_day=50)
    end = START + 10 * 200
    one_call = run(SimExchange(s, START), [START, end])
    rng = np.random.default_rng(0)
    ragged = sorted(START + rng.uniform(0, end - START, 37))  # off-grid, uneven polls
    many_calls = run(SimExchange(s, START), [START, *ragged, end])
    assert one_call == many_calls


def test_events_are_stamped_with_grid_times_in_order() -> None:
    s = SimSettings(markets=50, step_seconds=15)
    ex = SimExchange(s, START)
    events = ex.poll(START + 15 * 20 + 7)
    ts = [e.ts for e in events]
    assert ts == sorted(ts)
    assert {round((t - START) / 15, 9) % 1 for t in ts} == {0.0}
    assert max(ts) == START + 15 * 20
    assert ex.poll(START + 15 * 20 + 14) == []  # nothing new before the next grid time


def test_different_seeds_give_different_worlds() -> None:
    a = SimExchange(SimSettings(markets=50, seed=1), START)
    b = SimExchange(SimSettings(markets=50, seed=2), START)
    assert {m.market_id for m in a.discover()}.isdisjoint(m.market_id for m in b.discover())
    times = [START + 10 * k for k in range(20)]
    assert run(a, times) != run(b, times)


def test_first_poll_at_start_snapshots_every_market() -> None:
    ex = SimExchange(SimSettings(markets=200), START)
    assert ex.poll(START - 1) == []
    markets = ex.discover()
    events = ex.poll(START)
    snaps = [e for e in events if isinstance(e, BookSnapshot)]
    assert len(snaps) == len(events)
    assert sorted(e.asset_id for e in snaps) == sorted(m.yes_token for m in markets)


def test_ids_look_like_polymarket_and_are_unique() -> None:
    markets = SimExchange(SimSettings(markets=300), START).discover()
    for m in markets:
        assert re.fullmatch(r"0x[0-9a-f]{64}", m.market_id)
        for tok in (m.yes_token, m.no_token):
            assert tok.isdigit() and 60 <= len(tok) <= 78
    ids = [x for m in markets for x in (m.market_id, m.yes_token, m.no_token)]
    assert len(set(ids)) == len(ids)


def test_markets_carry_realistic_metadata() -> None:
    s = SimSettings(markets=1000)
    markets = SimExchange(s, START).discover()
    assert len(markets) == 1000
    assert {m.category for m in markets} == set(CATEGORIES)
    for m in markets:
        assert m.fee_rate == FEES[m.category]
        assert m.min_order_size == 5.0
        assert m.created_ts <= START < m.end_ts
        assert m.tick_size in (0.01, 0.001)
        assert m.question.endswith("?") and m.description
        assert m.volume >= 0 and m.liquidity > 0
        assert not m.resolved and m.accepting_orders
    hours = np.array([(m.end_ts - START) / 3600 for m in markets])
    assert hours.min() < 24  # some close to resolution
    assert hours.max() > 24 * 60  # some months out
    ticks = Counter(m.tick_size for m in markets)
    assert ticks[0.01] > ticks[0.001] > 0


def test_event_groups_have_three_to_six_members_sharing_end_and_category() -> None:
    s = SimSettings(markets=1000, event_group_share=0.3)
    markets = SimExchange(s, START).discover()
    groups: dict[str, list[Any]] = {}
    for m in markets:
        if m.event_id is not None:
            groups.setdefault(m.event_id, []).append(m)
            assert m.neg_risk
        else:
            assert not m.neg_risk
    assert all(3 <= len(g) <= 6 for g in groups.values())
    assert all(len({(m.end_ts, m.category) for m in g}) == 1 for g in groups.values())
    grouped = sum(len(g) for g in groups.values())
    assert abs(grouped - 300) <= 2


def test_no_event_groups_when_share_is_zero() -> None:
    markets = SimExchange(SimSettings(markets=100, event_group_share=0), START).discover()
    assert all(m.event_id is None for m in markets)


def test_discover_hands_out_copies() -> None:
    ex = SimExchange(SimSettings(markets=10), START)
    m = ex.discover()[0]
    m.tick_size = 0.5
    m.resolved = True
    again = ex.discover()[0]
    assert again.market_id == m.market_id
    assert again.tick_size != 0.5 and not again.resolved


def test_new_listings_appear_with_their_book() -> None:
    s = SimSettings(markets=50, step_seconds=600, new_listings_per_day=20)
    ex = SimExchange(s, START)
    known = {m.market_id for m in ex.discover()}
    listed: list[MarketListed] = []
    for k in range(0, 6 * 24 * 4):  # four days
        events = ex.poll(START + 600 * k)
        snap_tokens = {e.asset_id for e in events if isinstance(e, BookSnapshot)}
        for i, e in enumerate(events):
            if isinstance(e, MarketListed):
                listed.append(e)
                assert e.market.market_id not in known
                assert e.market.created_ts == e.ts < e.market.end_ts
                assert e.market.yes_token in snap_tokens
                later = [x for x in events[i + 1 :] if isinstance(x, BookSnapshot)]
                assert any(x.asset_id == e.market.yes_token for x in later)
                known.add(e.market.market_id)
    assert 40 <= len(listed) <= 130
    assert {m.market_id for m in ex.discover()} <= known


def test_true_probability_is_exposed_for_every_market() -> None:
    ex = SimExchange(SimSettings(markets=20), START)
    for m in ex.discover():
        assert 0.0 < ex.true_probability(m.market_id) < 1.0
    with pytest.raises(KeyError):
        ex.true_probability("0xnope")


def test_ten_thousand_markets_construct_and_step() -> None:
    s = SimSettings(markets=10_000)
    ex = SimExchange(s, START)
    assert len(ex.discover()) == 10_000
    first = ex.poll(START)
    assert len(first) == 10_000
    events = ex.poll(START + 5 * s.step_seconds)
    assert ex.steps_done == 6
    touched = {getattr(e, "asset_id", None) for e in events}
    assert 0 < len(touched) < 10_000  # busy, but quiet markets stay quiet
