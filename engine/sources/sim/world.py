"""The simulated world's markets, as one row per market in column arrays.

Columns rather than objects because every step updates every market at once with numpy; the
`Market` objects here are templates only (static facts), and callers get fresh copies with the
current tick and volume (`market_copy`), so nothing a consumer mutates can reach the world.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from engine.config import CATEGORIES, SimSettings
from engine.models import Market
from engine.sources.sim import dynamics, naming

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

HOUR = 3600.0
DAY = 86400.0
MIN_GROUP, MAX_GROUP = 3, 6
NEAR_END_SHARE = 0.1  # markets starting within a day of their end (sports games, daily crypto)

FEE_RATES: dict[str, float] = {
    "crypto": 0.072,
    "sports": 0.03,
    "politics": 0.04,
    "tech": 0.04,
    "economics": 0.05,
    "culture": 0.05,
    "weather": 0.05,
    "geopolitics": 0.0,
}
# Polymarket's taker fee is rate x (p (1 - p)) ** exponent, the exponent set per market (the
# CLOB's `fd.e`, Gamma's `feeSchedule.exponent`); most markets have 1. A fifth of the sim's
# fee-bearing markets get 2, chosen by their id (so the world's random draws are unchanged),
# so that every fee path is exercised with an exponent other than 1.
CURVED_FEE_SHARE = 0.2
CURVED_FEE_EXPONENT = 2.0


def fee_exponent(market_id: str, fee_rate: float) -> float:
    if fee_rate <= 0.0:
        return 1.0
    h = int.from_bytes(hashlib.sha256(market_id.encode()).digest()[:4], "big")
    return CURVED_FEE_EXPONENT if h < CURVED_FEE_SHARE * 2**32 else 1.0


CATEGORY_WEIGHTS: dict[str, float] = {
    "politics": 0.2,
    "sports": 0.2,
    "crypto": 0.15,
    "economics": 0.1,
    "geopolitics": 0.1,
    "culture": 0.1,
    "tech": 0.08,
    "weather": 0.07,
}

# The planted effects' per-row state (`effects.Mispricing` owns them).
EFFECT_COLUMNS = (
    "thin", "price_scale", "news_share", "hidden_z", "seen_logit", "news_gap", "jump_gap",
    "insider_tilt",
)  # fmt: skip
# Per-row columns, in the order `extend` concatenates them.
ROW_COLUMNS = (
    "category", "group", "created_ts", "end_ts", "fee_rate", "liquidity", "volume_rate",
    "spread_base", "size_base", "noise_scale", "z", "truth", "price_logit", "noise",
    "mid", "tick", "center", "bid_top", "ask_top", "spacing", "bid_sz", "ask_sz", "volume",
    "resolved", "payout", *EFFECT_COLUMNS,
)  # fmt: skip


def _f(n: int, fill: float = 0.0) -> FloatArray:
    return np.full(n, fill, dtype=np.float64)


def _i(n: int, fill: int = 0) -> IntArray:
    return np.full(n, fill, dtype=np.int64)


@dataclass(slots=True)
class World:
    """Every market's static facts and current state; row i is `markets[i]`."""

    levels: int
    markets: list[Market] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    groups: IntArray = field(default_factory=lambda: np.zeros((0, MAX_GROUP), dtype=np.int64))
    # static
    category: IntArray = field(default_factory=lambda: _i(0))  # index into CATEGORIES
    group: IntArray = field(default_factory=lambda: _i(0))  # row of `groups`, -1 stand-alone
    created_ts: FloatArray = field(default_factory=lambda: _f(0))
    end_ts: FloatArray = field(default_factory=lambda: _f(0))
    fee_rate: FloatArray = field(default_factory=lambda: _f(0))
    liquidity: FloatArray = field(default_factory=lambda: _f(0))  # USDC
    volume_rate: FloatArray = field(default_factory=lambda: _f(0))  # USDC traded per day
    spread_base: FloatArray = field(default_factory=lambda: _f(0))  # half spread at p = 0.5
    size_base: FloatArray = field(default_factory=lambda: _f(0))  # shares at the best level
    noise_scale: FloatArray = field(default_factory=lambda: _f(0))  # relative price-shock size
    # paths
    z: FloatArray = field(default_factory=lambda: _f(0))  # latent score (see dynamics)
    truth: FloatArray = field(default_factory=lambda: _f(0))
    price_logit: FloatArray = field(default_factory=lambda: _f(0))
    noise: FloatArray = field(default_factory=lambda: _f(0))
    mid: FloatArray = field(default_factory=lambda: _f(0))  # fair traded price, off-grid
    tick: FloatArray = field(default_factory=lambda: _f(0))
    # book (see books)
    center: FloatArray = field(default_factory=lambda: _f(0))  # `mid` at the last requote
    bid_top: IntArray = field(default_factory=lambda: _i(0))
    ask_top: IntArray = field(default_factory=lambda: _i(0))
    spacing: IntArray = field(default_factory=lambda: _i(0))
    bid_sz: FloatArray = field(default_factory=lambda: np.zeros((0, 1)))
    ask_sz: FloatArray = field(default_factory=lambda: np.zeros((0, 1)))
    # life
    volume: FloatArray = field(default_factory=lambda: _f(0))  # lifetime USDC
    resolved: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    payout: FloatArray = field(default_factory=lambda: _f(0))
    # planted effects (see effects: the state of the price beyond the truth)
    thin: FloatArray = field(default_factory=lambda: _f(0))  # 0 deep book .. 1 thin book
    price_scale: FloatArray = field(default_factory=lambda: _f(0))  # m: price/truth logit
    news_share: FloatArray = field(default_factory=lambda: _f(0))  # a: late share of a move
    hidden_z: FloatArray = field(default_factory=lambda: _f(0))  # jumps the price lacks yet
    seen_logit: FloatArray = field(default_factory=lambda: _f(0))  # score the price sees
    news_gap: FloatArray = field(default_factory=lambda: _f(0))  # score logits, decaying
    jump_gap: FloatArray = field(default_factory=lambda: _f(0))  # score logits, decaying
    insider_tilt: FloatArray = field(default_factory=lambda: _f(0))  # extra buy probability

    _yes_tokens: npt.NDArray[np.object_] = field(default_factory=lambda: np.empty(0, object))
    _market_ids: npt.NDArray[np.object_] = field(default_factory=lambda: np.empty(0, object))

    @property
    def n(self) -> int:
        return len(self.markets)

    def yes_tokens(self, rows: IntArray) -> tuple[str, ...]:
        """The YES token ids of `rows` (events name tokens; one array lookup, not a loop)."""
        if len(self._yes_tokens) != self.n:
            self._yes_tokens = np.array([m.yes_token for m in self.markets], dtype=object)
        return tuple(self._yes_tokens[rows].tolist())

    def market_ids(self, rows: IntArray) -> tuple[str, ...]:
        """The market ids of `rows` (as `yes_tokens`)."""
        if len(self._market_ids) != self.n:
            self._market_ids = np.array([m.market_id for m in self.markets], dtype=object)
        return tuple(self._market_ids[rows].tolist())

    def extend(self, other: World) -> IntArray:
        """Append `other`'s rows (stand-alone markets only); returns their row numbers."""
        if other.groups.size:
            raise ValueError("only stand-alone markets can be appended")
        start = self.n
        for name in ROW_COLUMNS:
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))
        for m in other.markets:
            self.index[m.market_id] = len(self.markets)
            self.markets.append(m)
        return np.arange(start, self.n, dtype=np.int64)

    def market_copy(self, row: int) -> Market:
        """The market as a consumer should see it now (a copy: theirs to mutate)."""
        m = self.markets[row]
        resolved = bool(self.resolved[row])
        return dataclasses.replace(
            m,
            tick_size=float(self.tick[row]),
            volume=round(float(self.volume[row]), 2),
            resolved=resolved,
            accepting_orders=not resolved,
            payout_yes=float(self.payout[row]) if resolved else None,
        )


def split_units(rng: np.random.Generator, n: int, group_share: float) -> list[int]:
    """Split `n` markets into event groups (3–6 members) and stand-alones (1), shuffled."""
    remaining = round(group_share * n)
    sizes: list[int] = []
    while remaining >= MIN_GROUP:
        if remaining <= MAX_GROUP:
            k = remaining
        else:
            k = int(rng.integers(MIN_GROUP, min(MAX_GROUP, remaining - MIN_GROUP) + 1))
        sizes.append(k)
        remaining -= k
    units = sizes + [1] * (n - sum(sizes))
    order = rng.permutation(len(units))
    return [units[int(i)] for i in order]


def _horizons(rng: np.random.Generator, n: int) -> FloatArray:
    """Seconds from now to the end: hours for some, days to six months for most."""
    near = rng.random(n) < NEAR_END_SHARE
    short = rng.uniform(HOUR, DAY, n)
    long = np.exp(rng.uniform(np.log(DAY), np.log(180 * DAY), n))
    out: FloatArray = np.round(np.where(near, short, long)).astype(np.float64)
    return out


def build(
    settings: SimSettings,
    rng: np.random.Generator,
    now: float,
    units: list[int],
    *,
    listed_now: bool,
    first_event_id: int,
) -> World:
    """Markets for `units` (group sizes), with static facts and an initial latent score.

    Price and book state are left at zero: the exchange initialises them (one code path for
    the first world and for later listings).
    """
    n = sum(units)
    levels = settings.book_levels
    jump_rate = settings.jump_rate_per_day / DAY
    cats = list(CATEGORIES)
    weights = np.array([CATEGORY_WEIGHTS[c] for c in cats])
    unit_cat = rng.choice(len(cats), size=len(units), p=weights / weights.sum())
    unit_tau = _horizons(rng, len(units))
    if listed_now:
        unit_created = np.full(len(units), now)
    else:
        unit_created = now - np.round(rng.uniform(HOUR, 60 * DAY, len(units)))
    unit_liq = np.exp(rng.normal(np.log(15_000.0), 1.3, len(units)))

    w = World(levels=levels)
    sizes = np.array(units, dtype=np.int64)
    w.category = np.repeat(unit_cat, sizes).astype(np.int64)
    tau = np.repeat(unit_tau, sizes)
    w.end_ts = now + tau
    w.created_ts = np.repeat(unit_created, sizes)
    w.fee_rate = np.array([FEE_RATES[cats[c]] for c in w.category], dtype=np.float64)
    w.liquidity = np.clip(np.repeat(unit_liq, sizes) * np.exp(rng.normal(0, 0.3, n)), 200, 5e6)
    w.volume_rate = w.liquidity * np.exp(rng.normal(np.log(0.3), 0.8, n))
    age_days = (now - w.created_ts) / DAY
    w.volume = np.round(w.volume_rate * age_days * np.exp(rng.normal(0, 0.3, n)), 2)
    w.spread_base = np.clip(0.004 * (50_000.0 / w.liquidity) ** 0.4, 0.005, 0.06)
    w.size_base = np.maximum(w.liquidity / (2.0 * levels), 2.0 * 5.0)
    w.noise_scale = dynamics.noise_scale(w.liquidity)

    # Initial truth: a broad prior for stand-alones, a Dirichlet split inside groups.
    lg = rng.normal(0.0, 2.0, n)
    group = np.full(n, -1, dtype=np.int64)
    group_rows: list[list[int]] = []
    row = 0
    for k in units:
        if k > 1:
            p = np.maximum(rng.dirichlet(np.full(k, 0.8)), 0.003)
            lg[row : row + k] = np.log(p / p.sum())
            group[row : row + k] = len(group_rows)
            group_rows.append(list(range(row, row + k)))
        row += k
    w.group = group
    w.groups = np.full((len(group_rows), MAX_GROUP), -1, dtype=np.int64)
    for g, members in enumerate(group_rows):
        w.groups[g, : len(members)] = members
    w.z = dynamics.scores_for_logits(lg, tau, jump_rate)

    for name in ("truth", "price_logit", "noise", "mid", "tick", "center", "payout"):
        setattr(w, name, _f(n))
    for name in EFFECT_COLUMNS:  # the exchange's `effects.Mispricing` fills them
        setattr(w, name, _f(n))
    for name in ("bid_top", "ask_top", "spacing"):
        setattr(w, name, _i(n))
    w.bid_sz = np.zeros((n, levels))
    w.ask_sz = np.zeros((n, levels))
    w.resolved = np.zeros(n, dtype=bool)

    _describe(w, rng, units, first_event_id)
    return w


def _describe(w: World, rng: np.random.Generator, units: list[int], first_event_id: int) -> None:
    """Ids, questions and the `Market` templates (Python per market: construction only)."""
    ids = naming.make_ids(rng, sum(units))
    row = 0
    for u, k in enumerate(units):
        cat = CATEGORIES[int(w.category[row])]
        end = float(w.end_ts[row])
        if k > 1:
            _, questions = naming.group_questions(rng, cat, k, end)
            event_id: str | None = str(first_event_id + u)
        else:
            questions = [naming.question(rng, cat, end)]
            event_id = None
        for q in questions:
            i = ids[row]
            w.markets.append(
                Market(
                    market_id=i.market_id,
                    question=q,
                    category=cat,
                    yes_token=i.yes_token,
                    no_token=i.no_token,
                    created_ts=float(w.created_ts[row]),
                    end_ts=float(w.end_ts[row]),
                    min_order_size=5.0,
                    fee_rate=float(w.fee_rate[row]),
                    fee_exponent=fee_exponent(i.market_id, float(w.fee_rate[row])),
                    event_id=event_id,
                    neg_risk=event_id is not None,
                    volume=float(w.volume[row]),
                    liquidity=round(float(w.liquidity[row]), 2),
                    description=naming.description(q, end),
                )
            )
            w.index[i.market_id] = row
            row += 1
