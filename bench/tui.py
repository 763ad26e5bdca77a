"""The console on a running engine, both ways the product runs it: attached to a daemon over its
control socket, and in-process sharing the GIL with the engine's steps.

Workload, for each market count (default 1,000 and 10,000; sim seed 1, paper, SQLite in a temp
data dir, the engine paced at --speed 10, so a decision cycle every wall second plus the paper
fills due between):
- attached: `polyb0t run --daemon --source sim` as a child process publishes its view through
  the real control server (engine/control/server.py); this process attaches with
  `RemoteLink.connect`, which receives each pushed frame, decodes it (engine/feed/codec.py via
  engine/control/protocol.py) and applies it to its `ViewStore`, and runs the console
  (`make_app(mode="attached")`) on that link.
- local: `build_runtime` + `make_app(mode="local", engine=...)` as `polyb0t run --source sim`
  composes them: the engine runs as the app's worker, its steps in a worker thread of this
  process, so the console and the steps share one GIL.
The console is headless (`App.run_test(headless=True)`, 160x48 by default: Textual lays out and
renders every frame, only the terminal write is skipped), sorted as it starts (by volume), and
pulls the view `ui.refresh_per_second` times a second (default 4). The first 2 s after the first
view are not measured. Then, every 250 ms, a key is pressed in the market table: three `down`
and one `pagedown`, over and over, so the cursor walks off the first screen and the table
scrolls. Each press is checked: the cursor moved down and, where it left the screen, the view
scrolled; a run in which no press scrolled exits 1.

Timed, over the measured window:
- keypress to render: from sending the key to the app's driver queue (as a terminal would) to
  the moment the table renders the line the cursor moved to (`MarketTable.render_line`
  instrumented): median, p90, max.
- pull to frame: from the start of a `Bridge.pull` that brought changes to the end of the next
  frame Textual composes (`App._display` instrumented; headless, so the frame is rendered but
  not written): median, p90, max; and the pull's own time on the UI loop.
- attached only: frames received per second and their size, the time to decode and apply one
  (`RemoteLink._decode`), and receive to frame (a frame's arrival to the next composed frame).
- CPU seconds per wall second: this process. Local: minus the engine steps' own CPU time and
  the database writer's (both `time.thread_time` inside their threads), so the console's share
  is shown apart. Attached: the whole process is the console; the daemon's CPU is its own.
- local only: engine steps taken and their wall time (mean, p99) while the console runs.

Run: python bench/tui.py [--markets 1000 10000] [--modes attached local] [--seconds 10]
    [--speed 10] [--size 160x48]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim_edge import edge_environment, with_edge
from textual import events

from engine.config import load_settings
from engine.control.files import read_token, read_url, token_path, url_path
from engine.control.protocol import ServerMessage
from engine.run.step_result import StepResult
from polyb0t_tui.app import PolybotApp, make_app
from polyb0t_tui.bridge import Bridge
from polyb0t_tui.remote_link import RemoteLink
from polyb0t_tui.runtime import build_runtime
from polyb0t_tui.widgets.market_table import MarketTable

START = "2026-03-02T00:00:00Z"
SETTLE_S = 2.0
PRESS_EVERY_S = 0.25
KEYS = ("down", "down", "down", "pagedown")
ROOT = Path(__file__).resolve().parents[1]
DAEMON = (sys.executable, "-m", "polyb0t_tui", "run", "--daemon", "--source", "sim")


@dataclass(slots=True)
class Probe:
    """What the instrumented console saw during the measured window."""

    measuring: bool = False
    presses: list[float] = field(default_factory=list)  # keypress to render, s
    moved: int = 0  # presses after which the cursor was further down
    scrolled: int = 0  # presses after which the view's top row was further down
    pull_ms: list[float] = field(default_factory=list)
    pull_to_frame: list[float] = field(default_factory=list)
    frames_rx: int = 0  # attached: frames decoded
    bytes_rx: int = 0
    decode_ms: list[float] = field(default_factory=list)
    rx_to_frame: list[float] = field(default_factory=list)
    step_ms: list[float] = field(default_factory=list)  # local: engine steps
    side_cpu: float = 0.0  # local: CPU of the engine steps and the writer thread, s
    _pending_pull: float | None = None
    _pending_rx: list[float] = field(default_factory=list)
    _key_from: int | None = None  # cursor before the press being timed
    _key_at: float = 0.0


def instrument(app: PolybotApp, probe: Probe) -> Callable[[], None]:
    """Hook the console's pull, frame and table line; returns the undo."""
    bridge_pull = Bridge.pull
    render_line = MarketTable.render_line
    display = app._display

    def pull(self: Bridge) -> None:
        before, t0 = self.pulls, time.perf_counter()
        bridge_pull(self)
        if probe.measuring and self.pulls != before:
            probe.pull_ms.append((time.perf_counter() - t0) * 1000)
            if probe._pending_pull is None:
                probe._pending_pull = t0

    def frame(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if renderable is None or app._batch_count:
            return
        now = time.perf_counter()
        if probe._pending_pull is not None:
            probe.pull_to_frame.append(now - probe._pending_pull)
            probe._pending_pull = None
        probe.rx_to_frame += [now - t for t in probe._pending_rx]
        probe._pending_rx.clear()

    def line(self: MarketTable, y: int) -> Any:
        strip = render_line(self, y)
        if (
            probe._key_from is not None
            and not probe._key_at
            and self.cursor != probe._key_from
            and y == self.cursor - round(self.scroll_offset.y) + 1
        ):
            probe._key_at = time.perf_counter()  # the cursor's new line, first drawn
        return strip

    Bridge.pull = pull  # type: ignore[method-assign]
    MarketTable.render_line = line  # type: ignore[method-assign]
    app._display = frame  # type: ignore[method-assign]

    def undo() -> None:
        Bridge.pull = bridge_pull  # type: ignore[method-assign]
        MarketTable.render_line = render_line  # type: ignore[method-assign]

    return undo


def instrument_link(link: RemoteLink, probe: Probe) -> None:
    decode = link._decode

    def timed(raw: str | bytes) -> ServerMessage:
        t0 = time.perf_counter()
        msg = decode(raw)
        t1 = time.perf_counter()
        if probe.measuring:
            probe.frames_rx += 1
            probe.bytes_rx += len(raw)
            probe.decode_ms.append((t1 - t0) * 1000)
            probe._pending_rx.append(t1)
        return msg

    link._decode = timed  # type: ignore[method-assign]


def send_key(app: PolybotApp, key: str) -> None:
    """The key as a terminal driver delivers it (what `Pilot.press` sends, without its wait
    for the app to go idle, which a busy engine can hold off for seconds)."""
    event = events.Key(key, None)
    event.set_sender(app)
    assert app._driver is not None
    app._driver.send_message(event)


async def drive(app: PolybotApp, probe: Probe, seconds: float) -> tuple[float, float]:
    """Settle, then press keys for `seconds`; returns the wall and process CPU seconds of the
    measured window."""
    while app.bridge.status is None:  # the first view
        await asyncio.sleep(0.05)
    await asyncio.sleep(SETTLE_S)
    dash = app.dashboard
    assert dash is not None
    table = dash.table
    probe.measuring = True
    cpu0, wall0 = time.process_time(), time.perf_counter()
    end = wall0 + seconds
    k = 0
    while time.perf_counter() < end:
        await asyncio.sleep(PRESS_EVERY_S)
        key = KEYS[k % len(KEYS)]
        k += 1
        cursor, top = table.cursor, round(table.scroll_offset.y)
        probe._key_from, probe._key_at = cursor, 0.0
        t_press = time.perf_counter()
        send_key(app, key)
        while not probe._key_at and time.perf_counter() - t_press < 2.0:
            await asyncio.sleep(0.0005)
        probe.presses.append((probe._key_at or time.perf_counter()) - t_press)
        probe._key_from = None
        probe.moved += table.cursor > cursor
        probe.scrolled += round(table.scroll_offset.y) > top
    probe.measuring = False
    return time.perf_counter() - wall0, time.process_time() - cpu0


def console_settings(tmp: str, markets: int) -> Any:
    """The engine's settings (with an edge the baseline knows, bench/sim_edge.py: the
    console shows the intents, fills and positions of a trading engine)."""
    return load_settings(
        None,
        with_edge(
            {
                "data_dir": tmp,
                "sim": {"markets": markets, "seed": 1, "start": START},
                "control": {"port": 0},
            }
        ),
    )


async def run_attached(
    markets: int, speed: float | None, seconds: float, size: tuple[int, int]
) -> dict[str, float]:
    probe = Probe()
    with tempfile.TemporaryDirectory() as tmp:
        settings = console_settings(tmp, markets)
        env = dict(
            os.environ,
            POLYBOT_DATA_DIR=tmp,
            POLYBOT_CONTROL__PORT="0",
            POLYBOT_SIM__START=START,
            POLYBOT_LOG_LEVEL="WARNING",
            **edge_environment(),
        )
        log_path = Path(tmp) / "daemon.log"
        log_file = log_path.open("wb")  # a file, not a pipe: a full pipe would stall it
        daemon = subprocess.Popen(
            [*DAEMON, "--markets", str(markets), "--seed", "1", "--speed", _speed_arg(speed)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
        try:
            url = await _daemon_url(Path(tmp), daemon, log_path)
            link = await RemoteLink.connect(url, read_token(token_path(Path(tmp))))
            instrument_link(link, probe)
            app = make_app(settings, link, mode="attached", freeze_gc=True)
            app.animation_level = "none"
            undo = instrument(app, probe)
            try:
                async with app.run_test(headless=True, size=size):
                    wall, cpu = await drive(app, probe, seconds)
            finally:
                undo()
                await link.close()
        finally:
            daemon.terminate()  # SIGTERM: it finishes its step and records the run's end
            daemon.wait(timeout=30)
            log_file.close()
        if daemon.returncode != 0:
            err = log_path.read_text(errors="replace")[-800:]
            raise RuntimeError(f"the daemon failed ({daemon.returncode}): {err}")
    return _figures(probe, wall, cpu, cpu)


def _speed_arg(speed: float | None) -> str:
    return "max" if speed is None else f"{speed:g}"


async def _daemon_url(data_dir: Path, daemon: subprocess.Popen[bytes], log: Path) -> str:
    """The URL the daemon's control server wrote once it listens."""
    deadline = time.monotonic() + 120.0
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            err = log.read_text(errors="replace")[-800:]
            raise RuntimeError(f"the daemon exited ({daemon.returncode}): {err}")
        try:
            return read_url(url_path(data_dir))
        except Exception:  # not written yet
            await asyncio.sleep(0.1)
    raise RuntimeError("the daemon did not publish its control URL within 120 s")


async def run_local(
    markets: int, speed: float | None, seconds: float, size: tuple[int, int]
) -> dict[str, float]:
    probe = Probe()
    with tempfile.TemporaryDirectory() as tmp:
        settings = console_settings(tmp, markets)
        rt = build_runtime(settings, speed=speed)
        rt.engine.freeze_gc = True  # as the CLI runs it
        step = rt.engine.step

        def measured(t: float, do_cycle: bool) -> StepResult:
            c0, t0 = time.thread_time(), time.perf_counter()
            out = step(t, do_cycle)
            if probe.measuring:
                probe.step_ms.append((time.perf_counter() - t0) * 1000)
                probe.side_cpu += time.thread_time() - c0
            return out

        store = rt.storage.store
        record_cycles = store.record_cycles

        def write(batches: Any) -> None:
            c0 = time.thread_time()
            record_cycles(batches)
            if probe.measuring:
                probe.side_cpu += time.thread_time() - c0

        rt.engine.step = measured  # type: ignore[method-assign]
        store.record_cycles = write  # type: ignore[method-assign]
        feed = rt.view.log_handler()  # engine log lines go to the console's log pane
        root = logging.getLogger("polyb0t")
        root.addHandler(feed)
        app = make_app(settings, rt.link, mode="local", engine=rt.engine, freeze_gc=True)
        app.animation_level = "none"
        undo = instrument(app, probe)
        try:
            async with app.run_test(headless=True, size=size):
                wall, cpu = await drive(app, probe, seconds)
                await app.bridge.shutdown(timeout=30.0)  # the engine records its end
        finally:
            undo()
            root.removeHandler(feed)
            rt.storage.db.close()
    return _figures(probe, wall, cpu, cpu - probe.side_cpu)


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def _figures(probe: Probe, wall: float, cpu: float, console_cpu: float) -> dict[str, float]:
    ms = 1000.0
    p = probe
    return {
        "wall_s": wall,
        "presses": float(len(p.presses)),
        "moved": float(p.moved),
        "scrolled": float(p.scrolled),
        "key_p50": _pct(p.presses, 0.5) * ms,
        "key_p90": _pct(p.presses, 0.9) * ms,
        "key_max": max(p.presses, default=float("nan")) * ms,
        "pulls_per_s": len(p.pull_ms) / wall,
        "pull_p50": _pct(p.pull_ms, 0.5),
        "pull_max": max(p.pull_ms, default=float("nan")),
        "frame_p50": _pct(p.pull_to_frame, 0.5) * ms,
        "frame_p90": _pct(p.pull_to_frame, 0.9) * ms,
        "frame_max": max(p.pull_to_frame, default=float("nan")) * ms,
        "frames": float(len(p.pull_to_frame)),
        "rx_per_s": p.frames_rx / wall,
        "rx_kb": p.bytes_rx / max(p.frames_rx, 1) / 1024,
        "decode_p50": _pct(p.decode_ms, 0.5),
        "decode_max": max(p.decode_ms, default=float("nan")),
        "rx_frame_p50": _pct(p.rx_to_frame, 0.5) * ms,
        "rx_frame_p90": _pct(p.rx_to_frame, 0.9) * ms,
        "steps": float(len(p.step_ms)),
        "step_mean": statistics.fmean(p.step_ms) if p.step_ms else float("nan"),
        "step_p99": _pct(p.step_ms, 0.99),
        "cpu_per_s": cpu / wall,
        "console_cpu_per_s": console_cpu / wall,
    }


def report(mode: str, markets: int, r: dict[str, float]) -> None:
    print(f"{mode} console, {markets:,} markets ({r['wall_s']:.1f} s measured):")
    print(
        f"  keypress to render: median {r['key_p50']:.1f} ms, p90 {r['key_p90']:.1f} ms, max "
        f"{r['key_max']:.1f} ms over {r['presses']:.0f} presses; cursor moved on "
        f"{r['moved']:.0f}, view scrolled on {r['scrolled']:.0f}"
    )
    print(
        f"  pull to frame: median {r['frame_p50']:.1f} ms, p90 {r['frame_p90']:.1f} ms, max "
        f"{r['frame_max']:.1f} ms over {r['frames']:.0f} frames; {r['pulls_per_s']:.1f} pulls/s "
        "with changes, each "
        f"{r['pull_p50']:.1f} ms median ({r['pull_max']:.1f} max) on the UI loop"
    )
    if mode == "attached":
        print(
            f"  received {r['rx_per_s']:.1f} frames/s of {r['rx_kb']:.0f} KiB, decode + apply "
            f"{r['decode_p50']:.1f} ms median ({r['decode_max']:.1f} max); receive to frame "
            f"median {r['rx_frame_p50']:.0f} ms, p90 {r['rx_frame_p90']:.0f} ms"
        )
        print(f"  console process CPU {r['cpu_per_s']:.3f} s per wall second")
    else:
        print(
            f"  engine: {r['steps']:.0f} steps, mean {r['step_mean']:.1f} ms, p99 "
            f"{r['step_p99']:.1f} ms (wall, sharing the GIL with the console)"
        )
        print(
            f"  CPU per wall second: console {r['console_cpu_per_s']:.3f} (process "
            f"{r['cpu_per_s']:.3f} minus engine steps and database writer)"
        )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.epilog = __doc__.split("\n", 2)[2]
    ap.add_argument("--markets", type=int, nargs="+", default=[1_000, 10_000])
    ap.add_argument(
        "--modes", nargs="+", choices=["attached", "local"], default=["attached", "local"]
    )
    ap.add_argument("--seconds", type=float, default=10.0, help="measured seconds per case")
    ap.add_argument(
        "--speed",
        type=lambda v: None if v == "max" else float(v),
        default=10.0,
        help="engine seconds per wall second, or max (default 10: a cycle every wall second)",
    )
    ap.add_argument("--size", default="160x48", help="terminal WIDTHxHEIGHT")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    print(
        f"console headless {width}x{height}, engine sim paper at --speed "
        f"{_speed_arg(args.speed)}, "
        f"keys {'/'.join(KEYS)} every {PRESS_EVERY_S * 1000:.0f} ms, {args.seconds:g} s "
        f"measured after {SETTLE_S:g} s"
    )
    ok = True
    for markets in args.markets:
        for mode in args.modes:
            run = run_attached if mode == "attached" else run_local
            r = asyncio.run(run(markets, args.speed, args.seconds, (width, height)))
            report(mode, markets, r)
            ok = ok and r["scrolled"] > 0
    if not ok:
        print("FAILED: a case's keypresses never scrolled the table")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
