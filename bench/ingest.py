"""Market-channel ingest: wire bytes to L2 books, one core.

Workload (generated deterministically here, in the current wire format, not timed):
1,000 assets (500 binary markets, YES and NO token), 77-digit token ids, 0x condition ids,
40-hex hashes, ms-string timestamps, numbers as strings. 50,000 `book` messages (the first
1,000 are the subscription dump; the rest are re-snapshots spread through the stream) with
8-30 levels a side, bids ascending and asks descending as Polymarket sends them; 1,000,000
`price_change` messages in the `price_changes[]` layout (since 2025-09-15) with
best_bid/best_ask/hash on every entry: 55 % two entries (one on each token of the
market), 30 % one, 15 % three or four (a sweep); one size in five is 0 (level removed). One
message per frame (bytes), as the feed sends them after the dump.

Measured (timed), the headline: the engine's own path, every frame. A `PolymarketSource`
whose streams (`track`: made as the daemon makes them, 200 assets a connection) are handed
each frame through `MarketStream.on_frame` (decode, trust filter, into the connection's
lane, which packs its frames into columns every 256), and every `--poll-every` frames
(default 10,000) an engine step's `source.poll` + `MarketState.apply` (the columnar
`BookBatch` built from the lanes and applied, top levels recomputed), events included. The
run fails unless MarketState's full-depth books (YES orientation, both tokens folded in) and
best levels equal the generator's. Secondary line: `l2.L2Books.ingest` on the same frames
(bytes to per-token level arrays, no engine), its books checked per token. Frames are timed
in chunks of 50,000 as generated, so each chunk starts with cold caches; generation is not
timed.

Run: python bench/ingest.py [--price-changes N] [--books N] [--seed S] [--runs N] [--poll-every N]
Each run replays the same stream into fresh books; the median run is judged (this VM's
figures move by a few per cent from run to run).
Target: >= 600,000 messages/s on one core for the engine path.
"""

from __future__ import annotations

import argparse
import gc
import math
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import msgspec

from engine.config import PolymarketSettings
from engine.models import Market
from engine.sources.polymarket.l2 import L2Books
from engine.sources.polymarket.source import PolymarketSource
from engine.state.market_state import MarketState

ASSETS = 1_000
CHUNK = 50_000  # messages generated, then timed, at a time (bounds memory)
POLL_EVERY = 10_000  # frames between two engine steps (poll + apply)


@dataclass
class Asset:
    token: str
    market: str
    tick: float
    bids: dict[float, float] = field(default_factory=dict)
    asks: dict[float, float] = field(default_factory=dict)
    yes: bool = True  # the market's YES token (else NO)


@dataclass
class Merged:
    """What `MarketState` must hold for a market: one book, YES orientation, that every
    event of either token writes (a NO bid at p is a YES ask at 1 - p)."""

    bids: dict[float, float] = field(default_factory=dict)
    asks: dict[float, float] = field(default_factory=dict)

    def side(self, yes: bool, bid: bool) -> dict[float, float]:
        return self.bids if bid == yes else self.asks

    @staticmethod
    def price(yes: bool, p: float) -> float:
        return p if yes else round(1.0 - p, 3)


def _px(p: float, tick: float) -> str:
    return f"{p:.{3 if tick < 0.01 else 2}f}"


class Workload:
    """The stream generator; also the reference books the ingest must reproduce."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ts = 1_757_908_892_351
        self.entries = 0  # price_change entries generated (level changes)
        self.assets: list[Asset] = []
        self.merged: dict[str, Merged] = {}
        for m in range(ASSETS // 2):
            market = "0x" + f"{self.rng.getrandbits(256):064x}"
            tick = 0.001 if m % 10 == 0 else 0.01
            self.merged[market] = Merged()
            for yes in (True, False):
                token = str(self.rng.getrandbits(252)).rjust(77, "1")[:77]
                self.assets.append(Asset(token, market, tick, yes=yes))
        for a in self.assets:
            self._fill(a)

    def _hash(self) -> str:
        return f"{self.rng.getrandbits(160):040x}"

    def _fill(self, a: Asset) -> None:
        """A fresh random book around a random mid, on the asset's tick grid."""
        rng, tick = self.rng, a.tick
        mid = rng.uniform(0.1, 0.9)
        levels = rng.randint(8, 30)
        step = max(tick, 0.01)
        a.bids = {
            float(_px(mid - step * (i + 1), tick)): float(rng.randint(5, 50_000))
            for i in range(levels)
            if mid - step * (i + 1) >= tick
        }
        a.asks = {
            float(_px(mid + step * (i + 1), tick)): round(rng.uniform(5, 50_000), 2)
            for i in range(levels)
            if mid + step * (i + 1) <= 1 - tick
        }

    def markets(self) -> list[Market]:
        """The markets as `discover` would list them: assets 2m (YES) and 2m+1 (NO)."""
        pairs = zip(self.assets[::2], self.assets[1::2], strict=True)
        return [
            Market(
                market_id=y.market,
                question="q",
                category="crypto",
                yes_token=y.token,
                no_token=n.token,
                created_ts=0.0,
                end_ts=2e9,
                tick_size=y.tick,
            )
            for y, n in pairs
        ]

    def book(self, a: Asset) -> bytes:
        self._fill(a)
        m = self.merged[a.market]
        m.bids, m.asks = {}, {}
        for levels, bid in ((a.bids, True), (a.asks, False)):
            m.side(a.yes, bid).update({Merged.price(a.yes, p): s for p, s in levels.items()})
        self.ts += 1
        bids = ",".join(
            f'{{"price":"{_px(p, a.tick)}","size":"{s!r}"}}' for p, s in sorted(a.bids.items())
        )
        asks = ",".join(
            f'{{"price":"{_px(p, a.tick)}","size":"{s!r}"}}'
            for p, s in sorted(a.asks.items(), reverse=True)
        )
        return (
            f'{{"event_type":"book","asset_id":"{a.token}","market":"{a.market}",'
            f'"bids":[{bids}],"asks":[{asks}],"timestamp":"{self.ts}","hash":"{self._hash()}"}}'
        ).encode()

    def _entry(self, a: Asset) -> str:
        rng = self.rng
        side_bid = rng.random() < 0.5
        levels = a.bids if side_bid else a.asks
        if levels and rng.random() < 0.7:
            price = rng.choice(list(levels))  # change or remove an existing level
        else:
            anchor = (
                (max(a.bids) if a.bids else 0.5) if side_bid else (min(a.asks) if a.asks else 0.5)
            )
            price = float(
                _px(anchor + (-1 if side_bid else 1) * a.tick * rng.randint(-1, 5), a.tick)
            )
            price = float(_px(min(max(price, a.tick), 1 - a.tick), a.tick))
        size = 0.0 if rng.random() < 0.2 else round(rng.uniform(1, 20_000), 2)
        merged = self.merged[a.market].side(a.yes, side_bid)
        if size > 0:
            levels[price] = size
            merged[Merged.price(a.yes, price)] = size
        else:
            levels.pop(price, None)
            merged.pop(Merged.price(a.yes, price), None)
        best_bid = max(a.bids) if a.bids else 0.0
        best_ask = min(a.asks) if a.asks else 1.0
        return (
            f'{{"asset_id":"{a.token}","price":"{_px(price, a.tick)}","size":"{size!r}",'
            f'"side":"{"BUY" if side_bid else "SELL"}","hash":"{self._hash()}",'
            f'"best_bid":"{_px(best_bid, a.tick)}","best_ask":"{_px(best_ask, a.tick)}"}}'
        )

    def price_change(self) -> tuple[bytes, str]:
        rng = self.rng
        i = rng.randrange(ASSETS)
        a = self.assets[i]
        mate = self.assets[i ^ 1]  # the other token of the same market
        r = rng.random()
        targets = (
            [a, mate] if r < 0.55 else [a] if r < 0.85 else [a, mate, a, mate][: rng.choice((3, 4))]
        )
        self.ts += 1
        self.entries += len(targets)
        entries = ",".join(self._entry(t) for t in targets)
        raw = (
            f'{{"market":"{a.market}","price_changes":[{entries}],'
            f'"timestamp":"{self.ts}","event_type":"price_change"}}'
        ).encode()
        return raw, a.token

    def stream(self, price_changes: int, books: int) -> Iterator[list[tuple[bytes, str]]]:
        """Chunks of (frame, a token it is about): the dump first, then price changes with
        re-snapshots mixed in."""
        dump = min(books, ASSETS)
        frames = [(self.book(a), a.token) for a in self.assets[:dump]]
        later_books = books - dump
        every = price_changes / later_books if later_books else float("inf")
        next_book, done_books = every, 0
        for n in range(1, price_changes + 1):
            frames.append(self.price_change())
            if n >= next_book and done_books < later_books:
                a = self.rng.choice(self.assets)
                frames.append((self.book(a), a.token))
                done_books += 1
                next_book += every
            if len(frames) >= CHUNK:
                yield frames
                frames = []
        while done_books < later_books:
            a = self.rng.choice(self.assets)
            frames.append((self.book(a), a.token))
            done_books += 1
        if frames:
            yield frames


def engine_path(
    work: Workload,
) -> tuple[PolymarketSource, MarketState, dict[str, Callable[[bytes], None]]]:
    """The daemon's path, built without a network: a `PolymarketSource` whose streams are
    fed frames by hand, and the engine's `MarketState` (markets listed as `discover` would)."""
    settings = PolymarketSettings()
    source = PolymarketSource(settings, monotonic=lambda: 0.0)  # never silent: no stale guard trips
    markets = work.markets()
    streams = source.track(markets)
    state = MarketState()
    for m in markets:
        state.add_market(m)
    handler: dict[str, Callable[[bytes], None]] = {}
    for stream in streams.streams:
        for token in stream.assets:
            handler[token] = stream.on_frame
    return source, state, handler


def check_books(work: Workload, state: MarketState, l2: L2Books) -> None:
    """Every book as the generator made it: MarketState's (full depth, and its best levels)
    and L2Books' (per token)."""
    for market, want in work.merged.items():
        bids, asks = state.levels(market)
        if bids != want.bids or asks != want.asks:
            raise SystemExit(f"MarketState book of {market[:12]} differs from the generated one")
        r = state.row(market)
        assert r is not None
        best = (
            max(want.bids) if want.bids else math.nan,
            min(want.asks) if want.asks else math.nan,
        )
        got = (float(state.bid_px[r, 0]), float(state.ask_px[r, 0]))
        if got != best and not (got[0] != got[0] or got[1] != got[1]):
            raise SystemExit(f"MarketState best levels of {market[:12]} differ: {got} != {best}")
    for a in work.assets:
        book = l2.get(a.token)
        if book is None or book.bids != a.bids or book.asks != a.asks:
            raise SystemExit(f"L2Books book of {a.token[:12]} differs from the generated one")


def run(
    price_changes: int, books: int, seed: int, poll_every: int = POLL_EVERY
) -> dict[str, float]:
    work = Workload(seed)
    source, state, handler = engine_path(work)
    l2 = L2Books()
    engine_s = l2_s = 0.0
    messages = bad = errors = 0
    since_poll = 0
    for chunk in work.stream(price_changes, books):
        calls = [(handler[t], raw) for raw, t in chunk]
        raws = [raw for raw, _ in chunk]
        gc.collect()
        t0 = time.perf_counter()
        for on_frame, raw in calls:
            on_frame(raw)
            since_poll += 1
            if since_poll == poll_every:
                errors += len(state.apply(source.poll(0.0)).errors)
                since_poll = 0
        engine_s += time.perf_counter() - t0
        gc.collect()
        t0 = time.perf_counter()
        ingest = l2.ingest
        for raw in raws:
            if ingest(raw):
                bad += 1
        l2_s += time.perf_counter() - t0
        messages += len(chunk)
    t0 = time.perf_counter()
    errors += len(state.apply(source.poll(0.0)).errors)
    engine_s += time.perf_counter() - t0
    frames_bad = sum(s.bad_frames for s in source.streams.streams) if source.streams else 0
    if bad or errors or frames_bad:
        raise SystemExit(f"{bad + frames_bad} messages failed to decode, {errors} apply errors")
    check_books(work, state, l2)
    return {
        "messages": messages,
        "seconds": engine_s,
        "rate": messages / engine_s,
        "levels": work.entries,
        "l2_rate": messages / l2_s,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--price-changes", type=int, default=1_000_000)
    ap.add_argument("--books", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--runs", type=int, default=3, help="whole runs, same stream; the median is judged"
    )
    ap.add_argument(
        "--poll-every", type=int, default=POLL_EVERY, help="frames between two engine steps"
    )
    args = ap.parse_args()
    print(
        f"market-channel ingest: {args.price_changes:,} price_change + {args.books:,} book "
        f"messages over {ASSETS:,} assets (seed {args.seed}); one core; {args.runs} runs; "
        f"python {platform.python_version()}, msgspec {msgspec.__version__}, {platform.machine()}"
    )
    results = []
    for i in range(args.runs):
        r = run(args.price_changes, args.books, args.seed, args.poll_every)
        results.append(r)
        print(
            f"run {i + 1}: engine path {r['rate']:>10,.0f} msg/s ({r['messages']:,} messages in "
            f"{r['seconds']:.2f} s, {r['levels']:,} level changes, an engine step every "
            f"{args.poll_every:,} frames; books verified against the generator); "
            f"L2Books {r['l2_rate']:>10,.0f} msg/s"
        )
        sys.stdout.flush()
    rates = sorted(r["rate"] for r in results)
    l2 = statistics.median(r["l2_rate"] for r in results)
    median = statistics.median(rates)
    print(
        f"engine path (bytes -> MarketStream.on_frame -> poll -> MarketState.apply): "
        f"median {median:>10,.0f} msg/s (min {rates[0]:,.0f}, max {rates[-1]:,.0f})"
    )
    print(f"L2Books.ingest (bytes -> per-token level arrays, no engine): median {l2:>10,.0f} msg/s")
    target = 600_000
    verdict = "meets" if median >= target else "BELOW"
    print(f"target >= {target:,} msg/s on the engine path (median): {verdict}")


if __name__ == "__main__":
    main()
