"""Features are computed for all markets at once and only from the past."""

from __future__ import annotations

import numpy as np

from engine.config import FeatureSettings
from engine.decision.features import FeatureEngine, history_samples
from engine.models import Market
from tests.state_factories import T0, book, market, state_with


def _engine() -> FeatureEngine:
    return FeatureEngine(FeatureSettings(return_windows_seconds=[10.0, 30.0]), 10.0)


def test_book_features() -> None:
    m = market(0)
    st = state_with([m], [book(m, 0.40, 0.44, bid_size=300.0, ask_size=100.0)])
    fe = _engine()
    st.record_history(T0)
    fe.observe(st)
    f = fe.compute(st, T0)
    assert abs(f["mid"][0] - 0.42) < 1e-12
    assert abs(f["spread"][0] - 0.04) < 1e-12
    # more size on the bid: imbalance positive, microprice leans to the ask
    assert f["imbalance"][0] > 0.4
    assert f["microprice"][0] > f["mid"][0]
    assert abs(f["hours_to_resolution"][0] - 30 * 24) < 1e-9


def test_returns_and_volatility_use_only_past_samples() -> None:
    m = market(0)
    st = state_with([m], [book(m, 0.40, 0.42)])
    fe = _engine()
    mids = [0.41, 0.45, 0.43, 0.50]
    for i, mid in enumerate(mids):
        st.apply([book(m, mid - 0.01, mid + 0.01, ts=T0 + 10 * i)])
        st.record_history(T0 + 10 * i)
        fe.observe(st)
    f = fe.compute(st, T0 + 30)
    assert abs(f["ret_10s"][0] - (0.50 - 0.43)) < 1e-9
    assert abs(f["ret_30s"][0] - (0.50 - 0.41)) < 1e-9
    assert abs(f["ret_last"][0] - 0.07) < 1e-9
    assert f["vol_10s"][0] > 0 and np.isfinite(f["vol_30s"][0])


def test_event_group_context_sums_yes_prices() -> None:
    ms: list[Market] = [market(i, event_id="ev1") for i in range(3)] + [market(3)]
    mids = [0.2, 0.3, 0.6, 0.5]
    st = state_with(ms, [book(m, p - 0.01, p + 0.01) for m, p in zip(ms, mids, strict=True)])
    fe = _engine()
    st.record_history(T0)
    fe.observe(st)
    f = fe.compute(st, T0)
    np.testing.assert_allclose(f["event_sum"][:3], 1.1)
    assert np.isnan(f["event_sum"][3]) and f["event_size"][3] == 0
    np.testing.assert_allclose(f["event_normalised_mid"][:3], np.array(mids[:3]) / 1.1)


def test_feature_matrix_has_one_row_per_market() -> None:
    ms = [market(i) for i in range(5)]
    st = state_with(ms, [book(m, 0.3, 0.32) for m in ms])
    fe = _engine()
    st.record_history(T0)
    fe.observe(st)
    f = fe.compute(st, T0)
    assert f.matrix().shape == (5, len(f.names))
    assert history_samples(FeatureSettings(), 10.0) >= 361
