"""Universe rules: each removes what it should, and diagnose attributes removals in order."""

from __future__ import annotations

from engine.config import UniverseSettings
from engine.decision.universe import UniverseFilter
from tests.state_factories import DAY, T0, book, market, state_with


def _universe(**kw: object) -> UniverseFilter:
    return UniverseFilter(UniverseSettings(**kw), depth_levels=3)


def test_each_rule_removes_its_markets() -> None:
    ok = market(0)
    wide = market(1)
    thin = market(2)
    quiet = market(3, volume=10.0)
    soon = market(4, end_ts=T0 + 3600)
    far = market(5, end_ts=T0 + 900 * DAY)
    sports = market(6, category="sports")
    closed = market(7, accepting_orders=False)
    ms = [ok, wide, thin, quiet, soon, far, sports, closed]
    books = [book(m, 0.40, 0.42) for m in ms]
    books[1] = book(wide, 0.30, 0.60)
    books[2] = book(thin, 0.40, 0.42, size=1.0)
    st = state_with(ms, books)
    uf = _universe(exclude_categories=["sports"])
    mask = uf.eligible(st, T0)
    assert mask.tolist() == [True] + [False] * 7
    rep = {r.name: r for r in uf.diagnose(st, T0)}
    assert rep["accepting_orders"].removed == 1
    assert rep["spread"].removed == 1 and rep["spread"].examples == [wide.question]
    assert rep["liquidity"].removed == 1
    assert rep["volume"].removed == 1
    assert rep["time_to_resolution"].removed == 2
    assert rep["category"].removed == 1
    assert sum(r.removed for r in rep.values()) == 7


def test_allow_list_of_categories() -> None:
    a, b = market(0, category="crypto"), market(1, category="politics")
    st = state_with([a, b], [book(a, 0.4, 0.42), book(b, 0.4, 0.42)])
    assert _universe(categories=["crypto"]).eligible(st, T0).tolist() == [True, False]


def test_one_sided_book_is_not_eligible() -> None:
    m = market(0)
    b = book(m, 0.4, 0.42)
    b.bid_px = b.bid_px[:0]
    b.bid_sz = b.bid_sz[:0]
    st = state_with([m], [b])
    rep = {r.name: r for r in _universe().diagnose(st, T0)}
    assert rep["two_sided_book"].removed == 1


def test_an_untrusted_book_is_never_eligible_until_trusted_again() -> None:
    from engine.events import BookTrust

    m = market(0)
    st = state_with([m], [book(m, 0.4, 0.42)])
    uf = _universe()
    assert uf.eligible(st, T0).tolist() == [True]
    st.apply([BookTrust(m.market_id, T0, False, "feed silent for 15 s")])
    assert uf.eligible(st, T0).tolist() == [False]
    assert {r.name: r.removed for r in uf.diagnose(st, T0)}["book_trusted"] == 1
    st.apply([BookTrust(m.market_id, T0 + 1, True, "fresh snapshot")])
    assert uf.eligible(st, T0).tolist() == [True]
