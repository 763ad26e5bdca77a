"""Hidden truth and traded-price paths, vectorised over every market at once.

The truth is built to be a (nearly) calibrated probability, so that a model which learns it
really would make money and "truth near 1 → YES wins" holds by construction, not by tuning.
Each market carries a latent score `z` (a random walk with unit variance per second plus
Poisson news jumps); YES wins if the score, plus a last coin-flip of `TAU_FLOOR` seconds of
variance, ends above zero. The truth is then P(YES | z) = Φ(z / √R) with R the variance still
to come, written as a logit `K·z/√R`. As the end nears R shrinks, so the logit runs to ±large
and the market converges on its outcome without any ad-hoc drift. Multi-outcome events use
the same scores as softmax logits, which keeps the members summing to one.

The traded price is a distorted, lagged, noisy view of the truth: the distortions are the
planted effects of `effects` (drawn per seed), the noise is `step_noise` here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

PROBIT_TO_LOGIT = 1.702  # logistic approximation of the normal CDF: Φ(x) ≈ σ(1.702 x)
TAU_FLOOR = 600.0  # seconds of uncertainty left at the end: the final draw is this coin flip
JUMP_SCALE = 0.6  # news jump sd, in units of √(remaining horizon): a visible repricing
MAX_LOGIT = 30.0
NOISE_LOGIT_PER_PROB = 4.0  # dp = p(1-p) dlogit: logit sd 4σ is prob sd σ at p = 0.5
SHOCK_RATE_PER_S = 1.0 / 900.0  # price shocks (a big order, a rumour) per market per second
LIQUIDITY_REF = 15_000.0  # a market this liquid gets shocks of the typical size

TICK_COARSE = 0.01
TICK_FINE = 0.001
FINE_BELOW, FINE_ABOVE = 0.04, 0.96  # the exchange refines the tick outside this band ...
COARSE_FROM, COARSE_TO = 0.05, 0.95  # ... and coarsens it back inside this one (hysteresis)


def sigmoid(x: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free form of 1 / (1 + e^-x)
    return out


def logit(p: FloatArray) -> FloatArray:
    q = p.clip(1e-12, 1.0 - 1e-12)  # the method: np.clip's wrappers cost more than the work
    out: FloatArray = np.log(q / (1.0 - q)).clip(-MAX_LOGIT, MAX_LOGIT)
    return out


def remaining_variance(tau: FloatArray, jump_rate_per_s: float) -> FloatArray:
    """Variance of the latent score still to come with `tau` seconds left.

    Diffusion adds `tau`, the final draw `TAU_FLOOR`, and jumps (rate λ, variance
    `JUMP_SCALE²·(τ_s + TAU_FLOOR)` when τ_s is left) add ∫ λ·J²·(s + TAU_FLOOR) ds.
    """
    jumps = jump_rate_per_s * JUMP_SCALE**2 * (0.5 * tau * tau + TAU_FLOOR * tau)
    out: FloatArray = tau + TAU_FLOOR + jumps
    return out


def logit_per_score(tau: FloatArray, jump_rate_per_s: float) -> FloatArray:
    """What one unit of latent score is worth in logits with `tau` seconds left."""
    out: FloatArray = PROBIT_TO_LOGIT / np.sqrt(remaining_variance(tau, jump_rate_per_s))
    return out


def score_logits(z: FloatArray, tau: FloatArray, jump_rate_per_s: float) -> FloatArray:
    """Latent scores as logits of the probability of finishing above zero."""
    out: FloatArray = (z * logit_per_score(tau, jump_rate_per_s)).clip(-MAX_LOGIT, MAX_LOGIT)
    return out


def scores_for_logits(lg: FloatArray, tau: FloatArray, jump_rate_per_s: float) -> FloatArray:
    """Inverse of `score_logits`: where to start a market to get a given initial truth."""
    out: FloatArray = lg * np.sqrt(remaining_variance(tau, jump_rate_per_s)) / PROBIT_TO_LOGIT
    return out


def step_scores(
    rng: np.random.Generator,
    z: FloatArray,
    tau: FloatArray,
    dt: float,
    jump_rate_per_s: float,
) -> tuple[IntArray, FloatArray]:
    """Advance every latent score by `dt` seconds, in place (diffusion, then news jumps).

    Returns the rows that jumped and their jumps (the news the informed traders learn first).
    """
    n = z.shape[0]
    z += np.sqrt(dt) * rng.standard_normal(n)
    counts = np.asarray(rng.poisson(jump_rate_per_s * dt, n), dtype=np.int64)
    hit = counts.nonzero()[0]
    if not hit.size:
        return hit, np.zeros(0)
    sd = JUMP_SCALE * np.sqrt(counts[hit] * (tau[hit] + TAU_FLOOR))
    dz = sd * rng.standard_normal(hit.size)
    z[hit] += dz
    return hit, dz


@dataclass(frozen=True, slots=True)
class GroupIndex:
    """Event groups laid out for softmaxes over their members.

    Built once (groups never change): members are the rows of a (width, G) matrix, so a
    group's max and sum are a few vector ops across groups instead of numpy's reduction of
    each short group on its own, which cost more than the rest of `truth` at 10,000 markets.
    """

    cols: IntArray  # (width, G): member rows, padding pointing at row 0
    pad: BoolArray  # (width, G): True where a group has fewer members than `width`
    members: IntArray  # cols[~pad]: the rows of `vals[~pad]` in `softmax_into`

    @classmethod
    def of(cls, groups: IntArray) -> GroupIndex:
        """From a (G, width) matrix of member rows padded with -1."""
        pad = np.ascontiguousarray(groups.T < 0)
        cols = np.where(pad, 0, groups.T)
        return cls(cols=cols, pad=pad, members=cols[~pad])

    def softmax_into(self, p: FloatArray, lg: FloatArray) -> None:
        """`p[members]` = the softmax of `lg` within each group."""
        if self.members.size == 0:
            return
        vals = lg[self.cols]
        vals[self.pad] = -np.inf
        vals -= vals.max(axis=0)
        np.exp(vals, out=vals)
        # numpy sums the rows of a (width, G) matrix in turn, member by member, as it does a
        # short row of the (G, width) layout: the same probabilities to the last bit.
        vals /= vals.sum(axis=0)
        p[self.members] = vals[~self.pad]


def truth(lg: FloatArray, groups: IntArray | GroupIndex) -> FloatArray:
    """Probabilities: sigmoid for stand-alone markets, softmax within each event group.

    `groups` is a (G, width) matrix of member rows padded with -1, or its `GroupIndex`.
    """
    p = sigmoid(lg)
    index = groups if isinstance(groups, GroupIndex) else GroupIndex.of(groups)
    index.softmax_into(p, lg)
    return p


def noise_scale(liquidity: FloatArray) -> FloatArray:
    """Relative size of price shocks: larger in thin books, where one order moves the price."""
    out: FloatArray = np.clip((LIQUIDITY_REF / liquidity) ** 0.25, 0.5, 3.0)
    return out


def step_noise(
    rng: np.random.Generator,
    noise: FloatArray,
    scale: FloatArray,
    price_noise: float,
    dt: float,
    decay_seconds: float,
) -> None:
    """Price noise in logit units, in place: Poisson shocks that decay exponentially with
    time constant `decay_seconds` (makers requoting, the order that moved it forgotten).

    Shocks rather than a diffusion so that most markets sit still most of the time (quiet
    books emit nothing) and a sudden move, most of all in a thin market, tends to revert: a
    pattern a model can learn. The shock size is set so that the stationary sd is
    `4·price_noise·scale` in logit units, i.e. about `price_noise` in probability at p = 0.5
    for a market of typical liquidity, whatever the step length.
    """
    rho = float(np.exp(-dt / decay_seconds))
    lam = SHOCK_RATE_PER_S * dt
    shock_sd = NOISE_LOGIT_PER_PROB * price_noise * float(np.sqrt((1.0 - rho * rho) / lam))
    noise *= rho
    counts = np.asarray(rng.poisson(lam, noise.shape[0]), dtype=np.int64)
    hit = counts.nonzero()[0]
    if hit.size and shock_sd > 0.0:
        sd = shock_sd * scale[hit] * np.sqrt(counts[hit])
        noise[hit] += sd * rng.standard_normal(hit.size)


def price_logits(scores: FloatArray, groups: IntArray | GroupIndex) -> FloatArray:
    """Logits of the prices that score logits `scores` give: a stand-alone market's price
    logit is its score, an event group's members share a softmax (summing to one, as
    arbitrage across a neg-risk event keeps them)."""
    return logit(truth(scores, groups))


def next_tick(mid: FloatArray, tick: FloatArray) -> FloatArray:
    """Tick after this step: fine near the extremes, coarse again well inside them."""
    fine = (mid < FINE_BELOW) | (mid > FINE_ABOVE)
    coarse = (mid >= COARSE_FROM) & (mid <= COARSE_TO)
    out: FloatArray = np.where(fine, TICK_FINE, np.where(coarse, TICK_COARSE, tick))
    return out


def initial_tick(mid: FloatArray) -> FloatArray:
    out: FloatArray = np.where((mid < FINE_BELOW) | (mid > FINE_ABOVE), TICK_FINE, TICK_COARSE)
    return out


def draw_outcomes(
    rng: np.random.Generator,
    p: FloatArray,
    rows: IntArray,
    group: IntArray,
    groups: IntArray,
) -> FloatArray:
    """YES payouts (1.0/0.0) for the markets `rows` that resolve now.

    Drawn from the truth itself, so resolutions are consistent with it. An event group
    resolves all its members at once (they share an end time) with exactly one winner.
    """
    pay = np.zeros(rows.size)
    single = group[rows] < 0
    pay[single] = (rng.random(int(single.sum())) < p[rows[single]]).astype(np.float64)
    gids = np.unique(group[rows[~single]])
    if gids.size:
        members = groups[gids]
        valid = members >= 0
        probs = np.where(valid, p[members], 0.0)
        cum = np.cumsum(probs, axis=1)
        u = rng.random(gids.size) * cum[:, -1]
        pick = np.minimum((cum <= u[:, None]).sum(axis=1), valid.sum(axis=1) - 1)
        winners = members[np.arange(gids.size), pick]
        pay[np.isin(rows, winners)] = 1.0
    return pay
