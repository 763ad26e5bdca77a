"""`SimExchange`: the seeded simulated exchange behind the `MarketSource` interface.

The world moves on a fixed grid `start + k·step_seconds`, whatever times `poll` is called
with, so a seed and a sequence of polls always give the same events, and one long poll gives
the same events as many short ones. Randomness comes from three independent streams (world
generation, paths and flow, listings) and a fourth that draws the seed's planted effects
(`effects`), so, e.g., rewording questions does not change prices.

Besides the `MarketSource` interface it implements `TruthSource`: the hidden P(YES) of its
open markets, which the recorder stores for validation (it never reaches the engine's state).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy.random import PCG64, Generator, SeedSequence

from engine.config import MlSettings, SimSettings
from engine.events import SourceEvent
from engine.models import Market
from engine.sources.sim import books, dynamics, emit, flow
from engine.sources.sim.effects import Effects, Mispricing
from engine.sources.sim.world import DAY, World, build, split_units

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_EVENT_ID_BASE = 100_000  # Polymarket event ids are short decimal strings


@dataclass(frozen=True, slots=True)
class _Open:
    """The markets open now and what the step needs of them. Kept between steps: it changes
    only when markets resolve or are listed, so a step need not scan the world for it."""

    mask: BoolArray  # ~resolved
    rows: IntArray  # flatnonzero(mask)
    next_end: float  # earliest end among them: no market can resolve before it
    prints: FloatArray  # flow rates of `rows` (`flow.Rates`)
    refresh: FloatArray


@dataclass(frozen=True, slots=True)
class _TruthMove:
    """One step of the truth, as the price needs it: score logits, logits per unit of score,
    and the news jumps (rows, score changes)."""

    lg: FloatArray
    inv_sd: FloatArray
    jumps: tuple[IntArray, FloatArray]


class SimExchange:
    """A Polymarket-like world: markets, hidden truths, books, trades, ticks, resolutions."""

    name = "sim"

    def __init__(
        self,
        settings: SimSettings,
        start_ts: float,
        *,
        batches: bool = False,
        sample_interval_seconds: float | None = None,
    ) -> None:
        """`sample_interval_seconds` is `ml.sample_interval_seconds` (default: its default):
        every effect's time constant must be at least 3 of them, else ValueError
        (`SimSettings.time_constant_problems`)."""
        interval = sample_interval_seconds
        if interval is None:
            interval = MlSettings().sample_interval_seconds
        problems = settings.time_constant_problems(interval)
        if problems:
            raise ValueError("; ".join(problems))
        self.settings = settings
        # Books as one `WholeBooks` per step (the engine: a few array writes to apply) or as
        # Polymarket's book / price_change events (the fake exchange turns those into its
        # websocket feed). The books they describe are the same.
        self.batches = batches
        self._start = float(start_ts)
        self._dt = float(settings.step_seconds)
        self._jump_rate = settings.jump_rate_per_day / DAY
        world_seq, path_seq, listing_seq, effects_seq = SeedSequence(settings.seed).spawn(4)
        world_rng = Generator(PCG64(world_seq))
        self._rng = Generator(PCG64(path_seq))
        self._listing_rng = Generator(PCG64(listing_seq))
        # The seed's effects: the sim's own, never shown to the engine (tests read them here).
        self._mis = Mispricing(Effects.draw(settings, Generator(PCG64(effects_seq))), settings)
        first_event = _EVENT_ID_BASE + int(world_rng.integers(0, 50_000))
        self.world: World = build(
            settings,
            world_rng,
            self._start,
            split_units(world_rng, settings.markets, settings.event_group_share),
            listed_now=False,
            first_event_id=first_event,
        )
        self._groups = dynamics.GroupIndex.of(self.world.groups)  # fixed: listings stand alone
        self._initialise(np.arange(self.world.n, dtype=np.int64), self._start, world_rng)
        self._k = 0  # index of the next grid step
        self._buffers: dict[int, FloatArray] = {}
        self._open: _Open | None = None  # None: to be computed

    # --- MarketSource ----------------------------------------------------------------------

    async def start(self) -> None:
        """Nothing to connect: the world is built in the constructor."""

    async def stop(self) -> None:
        """Nothing to release."""

    def discover(self) -> list[Market]:
        """Markets open now, as copies (the consumer may mutate them freely)."""
        w = self.world
        return [w.market_copy(r) for r in np.flatnonzero(~w.resolved).tolist()]

    def poll(self, now: float) -> list[SourceEvent]:
        """Run every grid step at or before `now` not run yet; their events in time order."""
        out: list[SourceEvent] = []
        while self.next_step_ts <= now:
            out.extend(self._step(self._k))
            self._k += 1
        return out

    # --- inspection (tests, benchmarks, the backtester's scorer) ---------------------------

    @property
    def next_step_ts(self) -> float:
        return self._start + self._k * self._dt

    @property
    def steps_done(self) -> int:
        return self._k

    def true_probability(self, market_id: str) -> float:
        """Hidden P(YES) now; the payout once resolved. KeyError for unknown markets."""
        r = self.world.index[market_id]
        w = self.world
        return float(w.payout[r] if w.resolved[r] else w.truth[r])

    def truth_at(self, t: float) -> tuple[tuple[str, ...], FloatArray]:
        """`TruthSource`: the open markets' ids and hidden P(YES) as of the last step at or
        before `t` (call it after `poll(t)`); a copy."""
        w = self.world
        rows = np.flatnonzero(~w.resolved)
        return w.market_ids(rows), w.truth[rows].copy()

    @property
    def effects(self) -> Effects:
        """The seed's planted effects (tests and the sim's own checks; no engine code)."""
        return self._mis.effects

    def book(self, market_id: str) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """The internal YES book, best first: (bid_px, bid_sz, ask_px, ask_sz)."""
        rows = np.array([self.world.index[market_id]], dtype=np.int64)
        bpx, bsz, bn, apx, asz, an = emit.ladders(self.world, rows)
        nb, na = int(bn[0]), int(an[0])
        return bpx[0, :nb].copy(), bsz[0, :nb].copy(), apx[0, :na].copy(), asz[0, :na].copy()

    # --- stepping ----------------------------------------------------------------------------

    def _initialise(self, rows: IntArray, t: float, rng: Generator) -> None:
        """Price, tick and book of new rows, starting in equilibrium with their truth."""
        w = self.world
        s = self.settings
        tau = np.maximum(w.end_ts - t, 0.0)
        lg = dynamics.score_logits(w.z, tau, self._jump_rate)
        w.truth[rows] = dynamics.truth(lg, self._groups)[rows]
        sd = dynamics.NOISE_LOGIT_PER_PROB * s.price_noise * w.noise_scale[rows]
        noise = sd * rng.standard_normal(rows.size)  # a stationary start (drawn either way)
        if self._mis.on:
            self._mis.init_rows(w, rows, lg)
            target = dynamics.price_logits(w.price_scale * lg, self._groups)
            w.price_logit[rows] = target[rows]
            w.noise[rows] = noise
            w.mid[rows] = dynamics.sigmoid(w.price_logit[rows] + w.noise[rows])
        else:
            w.price_logit[rows] = dynamics.logit(w.truth[rows])
            w.mid[rows] = w.truth[rows]
        w.tick[rows] = dynamics.initial_tick(w.mid[rows])
        self._requote(rows, rng)

    def _requote(self, rows: IntArray, rng: Generator) -> None:
        """Fresh book around the current fair price (a new `BookSnapshot` follows)."""
        if rows.size == 0:
            return
        w = self.world
        levels = w.levels
        mid = w.mid[rows]
        tick = w.tick[rows]
        scale = books.scale_of(tick)
        bid, ask = books.quote(mid, books.half_spread(w.spread_base[rows], mid, tick), scale)
        sp = books.spacing_of(scale)
        w.center[rows] = mid
        w.bid_top[rows] = bid
        w.ask_top[rows] = ask
        w.spacing[rows] = sp
        depth = (
            books.depth_in_range(bid, sp, scale, bids=True),
            books.depth_in_range(ask, sp, scale, bids=False),
        )
        fresh = books.draw_sizes(rng, w.size_base[rows], depth, levels)
        w.bid_sz[rows] = fresh[0]
        w.ask_sz[rows] = fresh[1]

    def _list_new(self, t: float) -> IntArray:
        rng = self._listing_rng
        count = int(rng.poisson(self.settings.new_listings_per_day * self._dt / DAY))
        if count == 0:
            return np.zeros(0, dtype=np.int64)
        batch = build(self.settings, rng, t, [1] * count, listed_now=True, first_event_id=0)
        rows = self.world.extend(batch)
        self._initialise(rows, t, rng)
        self._open = None
        return rows

    def _step(self, k: int) -> list[SourceEvent]:
        t = self._start + k * self._dt
        w = self.world
        if k == 0:  # the runner's first poll: every open market's book
            opened = np.flatnonzero(~w.resolved)
            if self.batches:
                return list(emit.whole_books(w, opened, t))
            return list(emit.snapshots(w, opened, t))
        n_old = w.n
        old_bid = self._keep(0, w.bid_sz)
        old_ask = self._keep(1, w.ask_sz)

        ending, truth_move = self._move_truth(t)
        live = self._open_now()  # what is open after this step's resolutions, before listings
        tick_rows, old_tick, requote = self._move_prices(t, live.mask, truth_move)
        listed = self._list_new(t)
        trades = flow.draw_trades(self._rng, w, live.rows, self._prints(live))
        refreshed = flow.refresh_levels(self._rng, w, live.rows, live.refresh)

        written = np.zeros(n_old, dtype=bool)  # the books order flow wrote to (sizes only)
        written[trades.row] = True
        written[refreshed] = True
        candidates = written.nonzero()[0]
        bid_rows, bid_lvls = self._changed_cells(candidates, w.bid_sz, old_bid)
        ask_rows, ask_lvls = self._changed_cells(candidates, w.ask_sz, old_ask)

        events: list[SourceEvent] = []
        events.extend(emit.listings(w, listed, t))
        events.extend(emit.tick_changes(w, tick_rows, old_tick, t))
        if self.batches:  # every changed book whole: requoted, listed, and resized ones
            changed = np.zeros(w.n, dtype=bool)
            for rows in (requote, listed, bid_rows, ask_rows):
                changed[rows] = True
            events.extend(emit.whole_books(w, changed.nonzero()[0], t))
        else:  # books neither requoted nor just listed changed only in sizes: level changes
            events.extend(emit.snapshots(w, np.concatenate([requote, listed]), t))
            quiet = live.mask.copy()
            quiet[requote] = False
            keep_bid, keep_ask = quiet[bid_rows], quiet[ask_rows]
            bid = (bid_rows[keep_bid], bid_lvls[keep_bid])
            ask = (ask_rows[keep_ask], ask_lvls[keep_ask])
            events.extend(emit.price_changes(w, bid, ask, t))
        if self.batches:
            events.extend(emit.trade_batch(w, trades, t))
        else:
            events.extend(emit.trade_prints(w, trades, t))
        events.extend(emit.resolutions(w, ending, t))
        return events

    def _open_now(self) -> _Open:
        if self._open is None:
            w = self.world
            mask = ~w.resolved
            rows = np.flatnonzero(mask)
            rates = flow.rates(w, self._dt)
            self._open = _Open(
                mask=mask,
                rows=rows,
                next_end=float(w.end_ts[rows].min()) if rows.size else float("inf"),
                prints=rates.prints[rows],
                refresh=rates.refresh[rows],
            )
        return self._open

    def _prints(self, live: _Open) -> FloatArray:
        """Print rates of the open rows this step: more where informed traders are at work."""
        rows, boost = self._mis.print_boost()
        if rows.size == 0 or boost == 1.0 or live.rows.size == 0:
            return live.prints
        pos = np.minimum(np.searchsorted(live.rows, rows), live.rows.size - 1)
        pos = pos[live.rows[pos] == rows]  # the informed rows still open
        prints = live.prints.copy()
        prints[np.unique(pos)] *= boost
        return prints

    def _keep(self, slot: int, sizes: FloatArray) -> FloatArray:
        """A copy of `sizes` in a buffer kept between steps: a fresh 640 kB array at 10,000
        markets costs its page faults every step, about 1 ms."""
        buf = self._buffers.get(slot)
        if buf is None or buf.shape != sizes.shape:
            buf = self._buffers[slot] = np.empty_like(sizes)
        np.copyto(buf, sizes)
        return buf

    @staticmethod
    def _changed_cells(
        rows: IntArray, sizes: FloatArray, old: FloatArray
    ) -> tuple[IntArray, IntArray]:
        """(rows, levels) of the cells of `rows` (sorted) whose size differs from `old`, in
        row-major order. Only the rows flow wrote to: scanning the whole (n, levels) matrix
        cost more than the rest of the book work at 10,000 markets."""
        ri, lvls = np.divmod((sizes[rows] != old[rows]).ravel().nonzero()[0], sizes.shape[1])
        return rows[ri], lvls

    def _move_truth(self, t: float) -> tuple[IntArray, _TruthMove]:
        """Advance every latent score to `t` and resolve what ended.

        Returns the rows resolved now and how the truth moved (what the price follows).
        """
        w = self.world
        tau = np.maximum(w.end_ts - t, 0.0)
        jumps = dynamics.step_scores(self._rng, w.z, tau, self._dt, self._jump_rate)
        inv_sd = dynamics.logit_per_score(tau, self._jump_rate)
        lg = (w.z * inv_sd).clip(-dynamics.MAX_LOGIT, dynamics.MAX_LOGIT)
        w.truth = dynamics.truth(lg, self._groups)
        move = _TruthMove(lg, inv_sd, jumps)
        was_open = self._open_now()
        if t < was_open.next_end:
            return np.zeros(0, dtype=np.int64), move
        ending = (was_open.mask & (w.end_ts <= t)).nonzero()[0]
        if ending.size:
            w.payout[ending] = dynamics.draw_outcomes(self._rng, w.truth, ending, w.group, w.groups)
            w.resolved[ending] = True
            self._open = None
        return ending, move

    def _move_prices(
        self, t: float, is_open: BoolArray, truth: _TruthMove
    ) -> tuple[IntArray, FloatArray, IntArray]:
        """Traded price: the truth seen through the planted effects, plus noise (or the truth
        itself without mispricing); retick and requote.

        Returns the rows whose tick changed, their old ticks, and the rows requoted (their
        fair price moved a tick or more from the last quote, or their grid changed). Open
        markets only (`is_open`), computed over every row and masked: cheaper than taking
        the open rows out of each column.
        """
        w = self.world
        s = self.settings
        if self._mis.on:
            scores = self._mis.price_scores(w, t, self._dt, truth.lg, truth.inv_sd, truth.jumps)
            w.price_logit = dynamics.price_logits(scores, self._groups)
            decay = s.noise_decay_seconds
            dynamics.step_noise(self._rng, w.noise, w.noise_scale, s.price_noise, self._dt, decay)
            w.mid = dynamics.sigmoid(w.price_logit + w.noise)
        else:
            w.mid = w.truth.copy()
        new_tick = dynamics.next_tick(w.mid, w.tick)
        retick = new_tick != w.tick
        retick &= is_open
        tick_rows = retick.nonzero()[0]
        old_tick = w.tick[tick_rows]
        w.tick[tick_rows] = new_tick[tick_rows]
        moved = np.abs(w.mid - w.center) >= w.tick
        moved |= retick
        moved &= is_open
        requote = moved.nonzero()[0]
        self._requote(requote, self._rng)
        return tick_rows, old_tick, requote
