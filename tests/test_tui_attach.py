"""Attach mode with two real consoles on one engine: approve in one, it leaves the other."""

from __future__ import annotations

import asyncio
from pathlib import Path

from engine.control.files import read_token, token_path
from polyb0t_tui.remote_link import RemoteLink
from polyb0t_tui.widgets.intent_queue import IntentQueue
from tests.control_helpers import ran_runtime, server_for
from tests.tui_factories import console


def _queue(app: object) -> IntentQueue:
    dash = app.dashboard  # type: ignore[attr-defined]
    assert dash is not None
    queue: IntentQueue = dash.intent_queue
    return queue


async def _until(cond: object, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():  # type: ignore[operator]
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.05)


async def test_two_attached_consoles_share_the_intent_queue(tmp_path: Path) -> None:
    rt = await asyncio.to_thread(ran_runtime, tmp_path / "data")
    settings = rt.settings.model_copy(
        update={"ui": rt.settings.ui.model_copy(update={"confirm_above_usd": 1e9})}
    )
    async with server_for(rt, push_interval=0.05) as server:
        assert server.url is not None
        token = read_token(token_path(rt.settings.data_dir))
        link_a = await RemoteLink.connect(server.url, token)
        link_b = await RemoteLink.connect(server.url, token)
        app_a = console(settings, link_a, mode="attached")
        app_b = console(settings, link_b, mode="attached")
        try:
            async with app_a.run_test() as pa, app_b.run_test() as pb:
                await pa.press("1")
                await pb.press("1")
                await _until(lambda: _queue(app_a).selected is not None)
                await _until(lambda: _queue(app_b).selected is not None)
                target = _queue(app_a).selected
                assert target is not None and target.state == "PENDING"
                ids_b = {i.intent_id for i in _queue(app_b).intents}
                assert target.intent_id in ids_b  # the same queue in both
                await pa.press("a")

                def approved_in_b() -> bool:
                    shown = {i.intent_id: i.state for i in _queue(app_b).intents}
                    return shown.get(target.intent_id) == "APPROVED"

                await _until(approved_in_b)  # it left b's pending list
                pending_b = [i for i in _queue(app_b).intents if i.state == "PENDING"]
                assert target.intent_id not in {i.intent_id for i in pending_b}
                stored = rt.storage.intents.require(target.intent_id)
                assert stored.state.value == "APPROVED"
        finally:
            await link_a.close()
            await link_b.close()
