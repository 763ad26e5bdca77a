"""Gamma's many labels → the console's categories, and the taker fee rate that follows.

Gamma has no single category field: legacy markets carry `category` ("US-current-affairs",
"Pop-Culture "), newer ones only tags on the market or its event ("elections", "nba"), some
only a series slug ("btc-up-or-down-5m") or a fee type ("crypto_fees"). We look at all of
them and map the first recognisable word onto the categories the fee schedule is defined on
(docs/polymarket_api.md §3.6). The result is one of `CATEGORY_FEE_RATES`' keys.

Fee rate (the `feeRate` in fee = shares × feeRate × p(1 − p)):
1. the market's own `feeSchedule.rate` when Gamma sends one (sports markets do);
2. else, when `feesEnabled` is true, the category's rate from docs/polymarket_api.md §3.6 (a
   `feeType` of `crypto_fees` / `sports_fees*` pins the category even if tags disagree);
3. else 0: fee-free markets (most older and non-crypto/sports ones) charge nothing.
`makerBaseFee`/`takerBaseFee` are deliberately not used: they are the V1 signed-order field in
basis points (1000 on 5-minute crypto markets, i.e. "10 %") and do not equal the rate of the
V2 fee formula (0.072 for crypto).
"""

from __future__ import annotations

from collections.abc import Iterable

# Taker fee rate per category: the "Fees" section of nautilus_trader's
# docs/integrations/polymarket.md, as quoted in docs/polymarket_api.md §3.6.
CATEGORY_FEE_RATES: dict[str, float] = {
    "crypto": 0.072,
    "sports": 0.03,
    "finance": 0.04,
    "politics": 0.04,
    "mentions": 0.04,
    "tech": 0.04,
    "economics": 0.05,
    "culture": 0.05,
    "weather": 0.05,
    "other": 0.05,
    "geopolitics": 0.0,
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words (tag slugs, labels, legacy categories, series slugs, split on "-") per category.
# Checked in this order so the specific wins over the broad: a tag set
# {"ukraine", "politics"} is geopolitics, {"bitcoin", "politics"} is crypto.
_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "crypto",
        _words(
            "crypto cryptocurrency cryptocurrencies bitcoin btc ethereum eth solana sol xrp "
            "doge dogecoin defi nft nfts memecoin memecoins stablecoin stablecoins "
            "airdrop airdrops altcoin"
        ),
    ),
    (
        "sports",
        _words(
            "sports sport nba nfl mlb nhl wnba ncaa ncaab ncaaf soccer football basketball "
            "baseball hockey tennis golf ufc mma boxing f1 formula1 cricket rugby chess "
            "esports counter-strike cs2 dota lol league-of-legends valorant olympics epl "
            "premier-league la-liga serie-a bundesliga champions-league mls nascar cycling "
            "darts wwe pga atp wta fifa uefa super-bowl"
        ),
    ),
    (
        "weather",
        _words("weather temperature climate hurricane hurricanes snow rain tornado global-temp"),
    ),
    ("mentions", _words("mentions mention")),
    (
        "economics",
        _words(
            "economics economy economic fed fomc inflation cpi gdp recession "
            "interest-rates rates unemployment jobs-report jobs tariffs tariff "
            "macro"
        ),
    ),
    (
        "finance",
        _words(
            "finance stocks stock equities business ipo ipos earnings commodities "
            "oil gold nasdaq s&p sp500 mag-7 mag7 forex"
        ),
    ),
    (
        "tech",
        _words(
            "tech technology ai openai science space spacex apple google microsoft "
            "nvidia chatgpt gpt"
        ),
    ),
    (
        "geopolitics",
        _words(
            "geopolitics ukraine russia israel gaza iran middle-east war ceasefire nato "
            "military china-taiwan taiwan syria north-korea"
        ),
    ),
    (
        "politics",
        _words(
            "politics political elections election us-politics us-current-affairs trump "
            "biden congress senate house primaries primary president presidential "
            "governor mayor parliament"
        ),
    ),
    (
        "culture",
        _words(
            "culture pop-culture entertainment movies movie music celebrities celebrity "
            "awards oscars grammys tv box-office youtube twitter social-media "
            "games"
        ),
    ),
)


def _norm(label: str) -> str:
    return "-".join(label.strip().lower().replace("_", " ").split())


def categorise(labels: Iterable[str]) -> str:
    """The category for a set of Gamma labels; "other" when none is recognised.

    A label matches whole (`us-current-affairs`) or by one of its `-` parts
    (`nfl-week-7` → nfl), whole matches first.
    """
    norm = [n for n in (_norm(lab) for lab in labels if lab) if n]
    parts = [set(n.split("-")) for n in norm]
    for category, words in _WORDS:
        if any(n in words for n in norm):
            return category
    for category, words in _WORDS:
        if any(p & words for p in parts):
            return category
    return "other"


def fee_type_category(fee_type: str | None) -> str | None:
    """`feeType` names the schedule: `crypto_fees`, `sports_fees_v2`, ..."""
    if not fee_type:
        return None
    head = fee_type.lower().split("_")[0]
    return head if head in CATEGORY_FEE_RATES else None


def fee_rate(
    category: str,
    *,
    fees_enabled: bool,
    schedule_rate: float | None = None,
) -> float:
    """Taker fee rate for the engine's formula; see the module docstring for the order."""
    if schedule_rate is not None:
        return schedule_rate
    if not fees_enabled:
        return 0.0
    return CATEGORY_FEE_RATES.get(category, CATEGORY_FEE_RATES["other"])
