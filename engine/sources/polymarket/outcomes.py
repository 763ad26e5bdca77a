"""Which token is YES, and what a closed market paid: rules shared by Gamma, CLOB and WS.

`engine.models.Market` is YES/NO. Polymarket markets have two named outcomes that are not
always "Yes"/"No" ("Up"/"Down", team names, "Long"/"Short"), and the order is not promised
(docs/polymarket_api.md, gotcha G3). Rule: the outcome labelled "Yes" is YES; failing that, the
first outcome is YES (for "Up"/"Down" YES means "Up"). Every parser uses this one function so a
market's YES token is the same whichever endpoint described it.
"""

from __future__ import annotations

from collections.abc import Sequence

# A final price this close to 0 or 1 is a settlement, not a trade: the finest tick is 1e-4,
# so no tradeable price lies strictly inside this band. Legacy AMM markets settled at values
# like 0.000001 / 0.999999 (tests/fixtures/polymarket/wom__gamma_markets_default_10.json).
SETTLED_TOLERANCE = 1e-4


def yes_index(outcomes: Sequence[str]) -> int:
    labels = [str(o).strip().lower() for o in outcomes]
    if "yes" in labels:
        return labels.index("yes")
    if labels and labels[0] == "no":
        return 1
    return 0


def settled_payout(
    prices: Sequence[float],
    yes_idx: int,
    *,
    closed: bool,
    uma_status: str | None,
) -> float | None:
    """YES payout of a finished market, or None while it is not known to be final.

    docs/polymarket_api.md §2.6: a closed market with prices {1, 0} has resolved;
    `proposed`/`disputed` UMA status is not final; a fractional final (50/50, scalar) is
    trusted only when Gamma says `umaResolutionStatus == "resolved"`, because a closed market
    awaiting resolution still shows its last traded prices. `["0", "0"]` (legacy, void) is
    not a resolution.
    """
    if not closed or len(prices) != 2:
        return None
    status = (uma_status or "").strip().lower()
    if status in ("proposed", "disputed"):
        return None
    if abs(prices[0] + prices[1] - 1.0) >= SETTLED_TOLERANCE:
        return None
    p_yes = prices[yes_idx]
    nearest = round(p_yes)
    if abs(p_yes - nearest) < SETTLED_TOLERANCE:
        return float(nearest)
    if status == "resolved":
        return p_yes
    return None
