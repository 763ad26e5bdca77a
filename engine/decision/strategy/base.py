"""What the engine needs from a model, as a protocol so `ml/` can implement it later.

The engine never imports `ml/`: the composition root hands a `Predictor` in.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from engine.decision.features import Features

FloatArray = npt.NDArray[np.float64]


class Predictor(Protocol):
    name: str

    def predict(self, features: Features) -> FloatArray:
        """P(YES) per market row; NaN where the model abstains."""
        ...
