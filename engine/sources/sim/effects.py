"""The simulator's planted mispricing: how the traded price departs from the hidden truth.

Each effect is a distortion a model can learn from what the engine sees (a market's category,
its liquidity, its recent moves, its signed trade flow). Its size is drawn per seed, inside
the sim, from a prior centred on no effect that also holds the opposite sign (`SimSettings`
holds the priors' means and scales): a strategy that hard-codes one correction wins on the
seeds whose draw it matches and loses on the others, so the corrections have to be learnt
from data, seed by seed. Nothing outside the sim sees the draws.

In score-logit units (`dynamics`), for market i of category c with liquidity L:

    price score = m_i x (visible score + news gap + jump gap),   m_i = exp(beta_c - lam x thin(L))

- recalibration per category, `beta_c`: the log of the slope of the price's logit on the
  truth's (beta < 0: prices compressed toward 0.5; beta > 0: overconfident);
- a favourite-longshot bias that grows as liquidity falls, `lam x thin(L)`: thin(L) runs from 0
  at `LIQ_THICK` to 1 at `LIQ_THIN` (lam > 0: longshots rich, favourites cheap in thin
  books; lam < 0: the reverse);
- news reaction per category, `a_c`: of every move of the visible score, a share a_c reaches
  the price late, the gap closing with time constant `news_lag_seconds` (a_c > 0: slow
  reaction; a_c < 0: overshoot, then reversion);
- jumps in thin markets, `o`: a news jump moves the price by an extra o x thin(L) of itself,
  which reverts with `jump_reversal_seconds` (o > 0: overreaction and partial reversal, the
  jump itself staying; o < 0: underreaction, caught up with later);
- informed traders, `kappa`: a news jump moves the truth at once but the visible score only
  `insider_lead_seconds` later; meanwhile the market's prints come more often and lean
  kappa toward the coming move (kappa < 0: against it), so signed trade flow anticipates it
  (kappa = 0: nobody learns it early, and the price takes the jump at once).

With both gaps at zero a stand-alone market's price logit is exactly m_i x its truth's logit;
in an event group the scaling acts inside the softmax, so its members' prices still sum to
one. The price noise (`dynamics.step_noise`) comes on top. `sim.mispricing = false` uses
`Effects.off()`: the fair price is the truth itself.

Every effect's time constant is in seconds (the step only discretises it) and must be at
least 3 x `ml.sample_interval_seconds`, so that samples taken that often see an effect live
for several samples (`SimSettings.time_constant_problems`; the exchange refuses to start
otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.config import CATEGORIES, SimSettings
from engine.sources.sim import dynamics
from engine.sources.sim.world import World

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

LIQ_THIN = 1_000.0  # USDC: a book this thin or thinner gets the full liquidity effects ...
LIQ_THICK = 100_000.0  # ... one this deep or deeper none of them
NEWS_SHARE_MAX = 1.0  # |a_c|: at most the whole move arrives late (or twice it at once)
INSIDER_LEAN_MAX = 0.5  # |kappa|: at most every print on one side
INSIDER_PRINT_BOOST = 3.0  # prints x (1 + this x |kappa| / INSIDER_LEAN_MAX) while informed
INSIDER_TILT_LOGIT = 0.25  # a pending move of this many logits gets most of the lean


@dataclass(frozen=True, slots=True)
class Effects:
    """One seed's draw of every effect (see the module docstring for each symbol)."""

    log_slope: FloatArray  # beta_c, per category (CATEGORIES order)
    news_share: FloatArray  # a_c, per category
    longshot: float  # lam
    jump_over: float  # o
    insider_lean: float  # kappa
    on: bool = True

    @classmethod
    def off(cls) -> Effects:
        zeros = np.zeros(len(CATEGORIES))
        return cls(zeros, zeros.copy(), 0.0, 0.0, 0.0, on=False)

    @classmethod
    def draw(cls, settings: SimSettings, rng: np.random.Generator) -> Effects:
        """The seed's effects, from the priors in `settings` (or `off` without mispricing).

        Each parameter is its prior's mean plus sd x N(0, 1), except that with probability
        `effect_zero_share` it is the mean itself: with the default means of 0 the prior holds
        "no effect" exactly, beside both signs. One draw order whatever the settings, so a
        seed's other effects do not change when one prior does.
        """
        if not settings.mispricing:
            return cls.off()
        k = len(CATEGORIES)
        s = settings

        def prior(mean: float, sd: float, n: int) -> FloatArray:
            dev = sd * rng.standard_normal(n)
            dev[rng.random(n) < s.effect_zero_share] = 0.0
            return mean + dev

        log_slope = prior(s.calibration_log_slope_mean, s.calibration_log_slope_sd, k)
        news = prior(s.news_lag_share_mean, s.news_lag_share_sd, k)
        longshot = prior(s.longshot_bias_mean, s.longshot_bias_sd, 1)
        jump = prior(s.jump_overreaction_mean, s.jump_overreaction_sd, 1)
        lean = prior(s.insider_lean_mean, s.insider_lean_sd, 1)
        return cls(
            log_slope=log_slope,
            news_share=news.clip(-NEWS_SHARE_MAX, NEWS_SHARE_MAX),
            longshot=float(longshot[0]),
            jump_over=float(jump[0]),
            insider_lean=float(np.clip(lean[0], -INSIDER_LEAN_MAX, INSIDER_LEAN_MAX)),
        )


def thinness(liquidity: FloatArray) -> FloatArray:
    """0 for books of `LIQ_THICK` or more, 1 for `LIQ_THIN` or less, linear in log between."""
    span = np.log(LIQ_THICK / LIQ_THIN)
    out: FloatArray = np.clip(np.log(LIQ_THICK / liquidity) / span, 0.0, 1.0)
    return out


@dataclass(slots=True)
class _Pending:
    """News jumps the truth has taken and the price not yet: (row, score change, release)."""

    row: IntArray
    dz: FloatArray
    release: FloatArray

    @classmethod
    def empty(cls) -> _Pending:
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))


class Mispricing:
    """The price's state beyond the truth: per-row effect columns, the two gaps, and the jumps
    still hidden from the price. It writes the world's columns `price_scale`, `news_share`,
    `thin`, `hidden_z`, `seen_logit`, `news_gap`, `jump_gap` and `insider_tilt`."""

    def __init__(self, effects: Effects, settings: SimSettings) -> None:
        self.effects = effects
        self.news_tau = settings.news_lag_seconds
        self.jump_tau = settings.jump_reversal_seconds
        # Without informed traders (kappa = 0) nobody knows a jump early: the price takes it
        # at once, so an effect drawn as zero is no effect at all.
        self.lead = settings.insider_lead_seconds if effects.insider_lean != 0.0 else 0.0
        self._pending = _Pending.empty()
        self._tilted = np.zeros(0, np.int64)  # rows whose insider_tilt is set
        self.boost = 1.0 + INSIDER_PRINT_BOOST * abs(effects.insider_lean) / INSIDER_LEAN_MAX

    @property
    def on(self) -> bool:
        return self.effects.on

    def init_rows(self, w: World, rows: IntArray, lg: FloatArray) -> None:
        """Effect columns of new rows, starting without gaps or hidden jumps."""
        e = self.effects
        w.thin[rows] = thinness(w.liquidity[rows])
        cat = w.category[rows]
        w.price_scale[rows] = np.exp(e.log_slope[cat] - e.longshot * w.thin[rows])
        w.news_share[rows] = e.news_share[cat]
        w.hidden_z[rows] = 0.0
        w.seen_logit[rows] = lg[rows]
        w.news_gap[rows] = 0.0
        w.jump_gap[rows] = 0.0
        w.insider_tilt[rows] = 0.0

    def price_scores(
        self,
        w: World,
        t: float,
        dt: float,
        lg: FloatArray,
        inv_sd: FloatArray,
        jumps: tuple[IntArray, FloatArray],
    ) -> FloatArray:
        """One step of the price's view: hide new jumps, show those due, move the gaps; the
        price's score logits (softmax them for the price).

        `lg` are the truth's score logits (`z x inv_sd`), `jumps` the rows that jumped this
        step and their score changes (from `dynamics.step_scores`).
        """
        released_row, released_dz = self._hide_and_release(w, t, jumps)
        seen = lg.copy()
        hidden = self._pending.row
        if hidden.size:
            seen[hidden] = ((w.z[hidden] - w.hidden_z[hidden]) * inv_sd[hidden]).clip(
                -dynamics.MAX_LOGIT, dynamics.MAX_LOGIT
            )
        move = seen - w.seen_logit
        w.seen_logit = seen
        w.news_gap *= np.exp(-dt / self.news_tau)
        w.news_gap -= w.news_share * move
        w.jump_gap *= np.exp(-dt / self.jump_tau)
        if released_row.size and self.effects.jump_over != 0.0:
            jump_logit = released_dz * inv_sd[released_row]
            np.add.at(
                w.jump_gap, released_row, self.effects.jump_over * w.thin[released_row] * jump_logit
            )
        self._tilt(w, lg, seen)
        out: FloatArray = w.price_scale * (seen + w.news_gap + w.jump_gap)
        return out

    def print_boost(self) -> tuple[IntArray, float]:
        """Rows whose prints come more often now (informed traders at work), and by what
        factor."""
        return self._pending.row, self.boost

    def _hide_and_release(
        self, w: World, t: float, jumps: tuple[IntArray, FloatArray]
    ) -> tuple[IntArray, FloatArray]:
        """Queue this step's jumps until `t + lead`; the jumps the price sees now."""
        rows, dz = jumps
        p = self._pending
        if rows.size:
            p = _Pending(
                np.concatenate([p.row, rows]),
                np.concatenate([p.dz, dz]),
                np.concatenate([p.release, np.full(rows.size, t + self.lead)]),
            )
            np.add.at(w.hidden_z, rows, dz)
        due = p.release <= t
        if not due.any():
            self._pending = p
            return np.zeros(0, np.int64), np.zeros(0)
        out_row, out_dz = p.row[due], p.dz[due]
        np.subtract.at(w.hidden_z, out_row, out_dz)
        keep = ~due
        self._pending = _Pending(p.row[keep], p.dz[keep], p.release[keep])
        clear = out_row[~np.isin(out_row, self._pending.row)]
        w.hidden_z[clear] = 0.0  # nothing hidden there any more: no rounding residue
        return out_row, out_dz

    def _tilt(self, w: World, lg: FloatArray, seen: FloatArray) -> None:
        """The lean of the prints of markets with a hidden move, toward it (kappa's sign)."""
        if self._tilted.size:
            w.insider_tilt[self._tilted] = 0.0
        rows = self._pending.row
        self._tilted = rows
        if rows.size and self.effects.insider_lean != 0.0:
            gap = (lg[rows] - seen[rows]) / INSIDER_TILT_LOGIT
            w.insider_tilt[rows] = self.effects.insider_lean * np.tanh(gap)
