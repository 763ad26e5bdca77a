"""The ingest benchmark stays runnable and correct: a tiny run must rebuild every book.

Loaded from its path: `bench/` is a folder of scripts, not a package (mypy checks it as
such), so it is not imported by module name.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from engine.sources.polymarket import l2
from engine.sources.polymarket.ws import MarketStream

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "ingest.py"


@pytest.fixture(scope="module")
def ingest() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_ingest", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module


def test_ingest_benchmark_rebuilds_the_generated_books(ingest: ModuleType) -> None:
    r = ingest.run(price_changes=3_000, books=1_200, seed=3, poll_every=700)
    assert r["messages"] == 4_200 and r["rate"] > 0 and r["l2_rate"] > 0
    assert r["levels"] >= 3_000  # level changes carried by the price_change messages


def test_workload_is_deterministic_and_in_the_current_format(ingest: ModuleType) -> None:
    a = [f for chunk in ingest.Workload(5).stream(50, 1_010) for f, _ in chunk]
    b = [f for chunk in ingest.Workload(5).stream(50, 1_010) for f, _ in chunk]
    assert a == b and len(a) == 1_060
    assert a[0].startswith(b'{"event_type":"book","asset_id":"')
    changes = [f for f in a if b'"price_changes":[' in f]
    assert len(changes) == 50
    assert all(f.endswith(b'"event_type":"price_change"}') for f in changes)


def test_a_wrong_book_fails_the_run(ingest: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    real = l2.L2Books.ingest

    def lossy(self: l2.L2Books, raw: bytes | str) -> object:
        if b"price_changes" in (raw if isinstance(raw, bytes) else raw.encode()):
            return ()  # drop every change
        return real(self, raw)

    monkeypatch.setattr(l2.L2Books, "ingest", lossy)
    with pytest.raises(SystemExit, match=r"L2Books book of .* differs from the generated one"):
        ingest.run(price_changes=500, books=1_000, seed=3)


def test_a_wrong_engine_book_fails_the_run(
    ingest: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The headline path is checked too: an engine that loses level changes fails the run."""
    real = MarketStream.on_frame

    def lossy(self: MarketStream, frame: bytes | str) -> None:
        if b"price_changes" not in (frame if isinstance(frame, bytes) else frame.encode()):
            real(self, frame)

    monkeypatch.setattr(MarketStream, "on_frame", lossy)
    with pytest.raises(SystemExit, match=r"MarketState book of .* differs from the generated one"):
        ingest.run(price_changes=500, books=1_000, seed=3)
