"""A failing step is survived, never hidden: logged at ERROR once per kind of failure with its
traceback, repeats counted, and the error-rate kill switch trips as configured, saying so."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from engine.config import load_settings
from engine.run.step_errors import ErrorBudget, StepErrorLog
from polyb0t_tui.runtime import build_runtime

START = "2026-03-02T00:00:00Z"


def test_a_kind_of_failure_is_logged_once_with_its_traceback_then_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    errors = StepErrorLog(logging.getLogger("polyb0t.test"))
    with caplog.at_level(logging.DEBUG, logger="polyb0t.test"):
        for n in range(1, 101):
            try:
                raise KeyError("row 7")
            except KeyError as exc:
                failure = errors.failure(exc, f"t{n}")
            assert failure.repeats == n
        try:
            raise ValueError("another kind")
        except ValueError as exc:
            errors.failure(exc, "t101")
    records = [r for r in caplog.records if r.name == "polyb0t.test"]
    assert all(r.levelno == logging.ERROR for r in records)
    with_tb = [r for r in records if r.exc_info]
    assert [r.getMessage() for r in with_tb] == [
        "step at t1 failed: KeyError: 'row 7'",
        "step at t101 failed: ValueError: another kind",
    ]
    counted = [r.getMessage() for r in records if not r.exc_info]
    assert counted == [
        "step at t10 failed again (10 times so far): KeyError: 'row 7'",
        "step at t100 failed again (100 times so far): KeyError: 'row 7'",
    ]
    (line,) = errors.summary()
    assert "KeyError: 'row 7'" in line and line.endswith("happened 100 times")


def test_the_error_budget_says_its_real_window_and_limit() -> None:
    budget = ErrorBudget(window=4, limit=2)
    assert budget.reason == "error rate: 2 of the last 4 steps failed"
    assert not budget.add(True) and not budget.add(False) and budget.add(True)
    with pytest.raises(ValueError):
        ErrorBudget(window=3, limit=5)


def test_failing_steps_halt_the_engine_as_configured_and_are_logged_at_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(
        None,
        {
            "data_dir": str(tmp_path / "data"),
            "sim": {"seed": 7, "start": START, "markets": 40},
            "risk": {"error_window_steps": 4, "error_limit": 3},
        },
    )
    rt = build_runtime(settings, speed=None)

    def broken(now: float) -> list[object]:
        raise RuntimeError("the feed is broken")

    rt.source.poll = broken  # type: ignore[method-assign,assignment]
    with caplog.at_level(logging.DEBUG, logger="polyb0t"):
        summary = asyncio.run(rt.engine.run(asyncio.Event(), cycles=6))
    assert summary.errors == 6
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    tracebacks = [r for r in errors if r.exc_info and "failed: RuntimeError" in r.getMessage()]
    assert len(tracebacks) == 1  # once, with its traceback, however often it repeats
    reason = "error rate: 3 of the last 4 steps failed"
    events = rt.storage.store.recent_events(rt.run_id)
    assert [e.message for e in events if e.kind == "kill_switch"] == [reason]
    assert any("happened 6 times" in r.getMessage() for r in errors)
