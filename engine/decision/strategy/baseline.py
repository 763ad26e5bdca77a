"""The transparent baseline: three documented rules, until the ML replaces it.

1. Start from the microprice (the mid leaning toward the thinner side of the top of book),
   blended with the mid by `microprice_weight`: the best cheap estimate of where the next
   trade happens.
2. Shrink the latest one-cycle move by `move_shrinkage`: part of a sudden move in a thin
   market is noise that reverts.
3. Undo a favourite-longshot bias: prediction-market prices are often compressed toward
   0.5 (longshots overpriced, favourites underpriced). If prices are logit(p) x (1 - c) of
   the truth, the truth is sigmoid(logit(price) / (1 - c)); `longshot_correction` is c
   (c < 0: prices too extreme). Off (0) by default: how strong the bias is, and which way
   it goes, is a property of the markets to be fitted from data (by the ML, later) or set by
   a person who measured it. A fixed c that merely copied a simulator parameter would win
   on the simulator by knowing how it was built, and nowhere else.

The result is clipped to [0.01, 0.99]: the baseline never claims certainty.
"""

from __future__ import annotations

import numpy as np

from engine.config import StrategySettings
from engine.decision.features import Features
from engine.decision.strategy.base import FloatArray

EPS = 1e-4


def logit(p: FloatArray) -> FloatArray:
    q = np.clip(p, EPS, 1.0 - EPS)
    return np.log(q / (1.0 - q))


def sigmoid(x: FloatArray) -> FloatArray:
    return 1.0 / (1.0 + np.exp(-x))


class BaselinePredictor:
    name = "baseline"

    def __init__(self, settings: StrategySettings) -> None:
        self.s = settings

    def predict(self, features: Features) -> FloatArray:
        w = self.s.microprice_weight
        p = w * features["microprice"] + (1.0 - w) * features["mid"]
        move = np.nan_to_num(features["ret_last"])
        p = p - self.s.move_shrinkage * move
        c = self.s.longshot_correction
        if c != 0:
            p = sigmoid(logit(p) / (1.0 - c))
        return np.clip(p, 0.01, 0.99)
