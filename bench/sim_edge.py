"""The benchmarks' sim with an edge the baseline knows, so that their workloads trade.

The simulator draws its mispricing per seed and the baseline corrects nothing by default, so
a default sim run routes few orders or none, and a benchmark of the trading path would time
an idle one. The benchmarks that need orders pin one effect and hand the baseline its exact
inverse: every category prices the truth's logit x 0.7 and the baseline undoes a
favourite-longshot bias of 0.3, as the simulator and the baseline both shipped before the
mispricing was drawn per seed (the same edge as tests/sim_edge.py). A sibling module of the
scripts: `python bench/NAME.py` finds it beside them.
"""

from __future__ import annotations

import math
from typing import Any

EDGE_SIM: dict[str, Any] = {
    "calibration_log_slope_mean": math.log(0.7),
    "calibration_log_slope_sd": 0.0,
}
EDGE_STRATEGY: dict[str, Any] = {"longshot_correction": 0.3}


def with_edge(values: dict[str, Any]) -> dict[str, Any]:
    """Settings overrides with the edge merged into `sim` and `strategy`."""
    out = dict(values)
    out["sim"] = {**EDGE_SIM, **values.get("sim", {})}
    out["strategy"] = {**EDGE_STRATEGY, **values.get("strategy", {})}
    return out


def toml_lines() -> tuple[list[str], list[str]]:
    """The edge as config-file lines: those for the `[sim]` table, then a `[strategy]`
    table."""
    sim = [f"{k} = {v!r}" for k, v in EDGE_SIM.items()]
    return sim, ["[strategy]", *(f"{k} = {v!r}" for k, v in EDGE_STRATEGY.items())]


def edge_environment() -> dict[str, str]:
    """The edge as `POLYBOT_*` variables, for a daemon started as a child process."""
    out = {f"POLYBOT_SIM__{k.upper()}": repr(v) for k, v in EDGE_SIM.items()}
    out.update({f"POLYBOT_STRATEGY__{k.upper()}": repr(v) for k, v in EDGE_STRATEGY.items()})
    return out
