"""A simulator with an edge the baseline is told about, for the tests that need trades.

The simulator draws its planted effects per seed and the baseline corrects nothing by
default, so a default sim run trades little or nothing (tests/test_sim_skill.py: no fixed
correction wins). Tests of what happens once the engine trades (fills, intents, approvals,
re-checks, reports, the console's queue) pin one effect instead and hand the baseline its
exact inverse: every category prices the truth's logit x 0.7, and the baseline undoes a
favourite-longshot bias of 0.3 (both what the simulator and the baseline used to ship
with). The other effects stay drawn from their priors: noise around the edge, as markets
give.
"""

from __future__ import annotations

import math
from typing import Any

SLOPE = 0.7  # price logit = SLOPE x truth logit, in every category ...
EDGE_SIM: dict[str, Any] = {
    "calibration_log_slope_mean": math.log(SLOPE),
    "calibration_log_slope_sd": 0.0,
}
EDGE_STRATEGY: dict[str, Any] = {"longshot_correction": 0.3}  # ... undone: 1 / (1 - 0.3)


def with_edge(values: dict[str, Any]) -> dict[str, Any]:
    """Settings overrides (`load_settings`' shape) with the edge merged into `sim` and
    `strategy` (what `values` sets there wins)."""
    out = dict(values)
    out["sim"] = {**EDGE_SIM, **values.get("sim", {})}
    out["strategy"] = {**EDGE_STRATEGY, **values.get("strategy", {})}
    return out


# The edge as config-file lines: the first go under the file's `[sim]` table, the second
# are a `[strategy]` table of their own.
EDGE_SIM_TOML = [f"{k} = {v!r}" for k, v in EDGE_SIM.items()]
EDGE_STRATEGY_TOML = ["[strategy]", *(f"{k} = {v!r}" for k, v in EDGE_STRATEGY.items())]
