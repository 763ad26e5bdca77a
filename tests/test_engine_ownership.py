"""The engine step is the one owner of engine state: commands and queries from other threads
are queued to it (`engine.run.inbox`), never run beside it.

The stress test drives a running engine at --speed max for thousands of steps while four
threads, each with its own event loop, pause, kill and resume it, query market details and
pull the view: nothing raises, every request is answered, and a halt's reason is never lost
to a pause that raced it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from engine.config import load_settings
from engine.models import EngineState
from engine.run.inbox import EngineInbox
from polyb0t_tui.runtime import Runtime, build_runtime
from tests.sim_edge import with_edge

START = "2026-03-02T00:00:00Z"


def test_requests_wait_for_the_engine_step_and_run_directly_when_none_runs() -> None:
    inbox = EngineInbox()
    assert inbox.submit(lambda: 41 + 1).result(timeout=1) == 42  # no engine: run at once
    loop = asyncio.new_event_loop()
    try:
        wake = inbox.open(loop)
        ran: list[str] = []

        def request() -> str:
            ran.append(threading.current_thread().name)
            return "done"

        fut = inbox.submit(request)
        assert not fut.done() and inbox.pending == 1  # queued for the step
        loop.run_until_complete(asyncio.wait_for(wake.wait(), 1))  # and the runner is woken
        failing: Future[None] = inbox.submit(_raise)
        assert inbox.serve() == 2
        assert fut.result(timeout=1) == "done" and ran == [threading.current_thread().name]
        with pytest.raises(ValueError, match="bad request"):
            failing.result(timeout=1)
        late = inbox.submit(lambda: "served at close")
        inbox.close()  # the engine stopped: what was queued is served, then direct
        assert late.result(timeout=1) == "served at close"
        assert inbox.submit(lambda: "direct").result(timeout=1) == "direct"
    finally:
        loop.close()


def _raise() -> None:
    raise ValueError("bad request")


def _runtime(tmp_path: Path) -> Runtime:
    settings = load_settings(
        None,
        with_edge(  # an edge the baseline knows: intents to approve (tests.sim_edge)
            {
                "data_dir": str(tmp_path / "data"),
                "sim": {"seed": 3, "start": START, "markets": 150},
                "risk": {"daily_loss_limit_pct": 1.0, "max_drawdown_pct": 1.0},
            }
        ),
    )
    return build_runtime(settings, live=True, speed=None)


@pytest.mark.slow
def test_commands_and_queries_from_many_threads_against_a_running_engine(
    tmp_path: Path,
) -> None:
    rt = _runtime(tmp_path)
    control = rt.control
    done = threading.Event()
    problems: list[str] = []
    answered: dict[str, int] = {"pause": 0, "kill": 0, "detail": 0, "pull": 0, "recheck": 0}
    market_ids = [m.market_id for m in rt.source.discover()[:20]]

    def looping(name: str, body: Callable[[], Coroutine[Any, Any, None]]) -> threading.Thread:
        async def main() -> None:
            while not done.is_set():
                try:
                    await body()
                except Exception as exc:  # any escape is a failure of the test
                    problems.append(f"{name}: {type(exc).__name__}: {exc}")
                    return

        return threading.Thread(target=lambda: asyncio.run(main()), name=name, daemon=True)

    async def pauser() -> None:
        result = await rt.link.command("pause")
        assert isinstance(result.message, str)
        answered["pause"] += 1

    kills = iter(range(10**9))

    async def killer() -> None:
        reason = f"stress kill {next(kills)}"
        result = await rt.link.command("kill", reason=reason)
        answered["kill"] += 1
        if done.is_set():
            return
        assert result.ok, result.message  # only this thread halts, and it resumes each time
        seen = await rt.engine.inbox.call(lambda: (control.state, control.reason))
        if seen[0] is EngineState.STOPPED:  # the run ended meanwhile
            return
        if seen != (EngineState.HALTED, reason):
            problems.append(f"halt reason lost: {seen} after {reason!r}")
        await rt.link.command("resume")

    async def detailer() -> None:
        for market_id in market_ids:
            detail = await rt.link.detail(market_id)
            assert detail is None or detail.market_id == market_id
            answered["detail"] += 1

    async def puller() -> None:
        delta = rt.link.pull(0)
        assert delta.n_rows >= 0
        for intent in delta.intents[:3]:
            check = await rt.link.command("recheck", intent_id=intent.intent_id)
            assert isinstance(check.message, str)
            answered["recheck"] += 1
        answered["pull"] += 1
        await asyncio.sleep(0)

    threads = [
        looping("pauser", pauser),
        looping("killer", killer),
        looping("detailer", detailer),
        looping("puller", puller),
    ]

    steps = 0
    step = rt.engine.step

    def counted(t: float, do_cycle: bool) -> Any:
        nonlocal steps
        steps += 1
        return step(t, do_cycle)

    rt.engine.step = counted  # type: ignore[method-assign]

    async def run() -> int:
        for t in threads:
            t.start()
        try:
            summary = await rt.engine.run(asyncio.Event(), duration=3_000.0)
        finally:
            done.set()
        return summary.errors

    errors = asyncio.run(run())
    for t in threads:
        t.join(30)
        assert not t.is_alive(), f"{t.name} never got its answer"
    assert errors == 0
    assert not problems, problems[:5]
    assert steps >= 2_500 and rt.cycle.count >= 3_000 / rt.settings.loop_interval_seconds
    assert all(n > 0 for n in answered.values()), answered


def test_a_kill_before_the_run_begins_is_not_undone_by_its_start(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    assert asyncio.run(rt.link.command("kill", reason="before the start")).ok
    asyncio.run(rt.engine.run(asyncio.Event(), cycles=2))
    said = [e.message for e in rt.storage.store.recent_events(rt.run_id)]
    assert "trading skipped: halted: before the start" in said, said
    assert rt.storage.intents.list() == []  # nothing was proposed while halted
