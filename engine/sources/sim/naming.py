"""Identifiers and question text for simulated markets.

Ids copy Polymarket's shapes (condition id `0x` + 64 hex digits, token ids as 256-bit decimal
strings, event ids as short decimal strings) so that code which parses, truncates or stores
them is exercised with realistic values. Names are invented: the simulator should never
look like it says something about real people.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

# fmt: off
_FIRST = ("Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas",
          "Kara", "Luis", "Maya", "Nils", "Olga", "Pavel", "Rosa", "Sami", "Tara", "Viktor")
_LAST = ("Moreno", "Lindqvist", "Okafor", "Brandt", "Castell", "Duarte", "Haldane", "Ivers",
         "Kowal", "Marsh", "Novak", "Oyelaran", "Petrak", "Quint", "Rahman", "Sorensen")
_PLACES = ("Arden", "Belmora", "Calvaria", "Dunmere", "Estrava", "Ferrin", "Galvia", "Hollin")
_OFFICES = ("presidential", "mayoral", "senate", "gubernatorial", "parliamentary")
_TEAMS = ("Harbor Hawks", "Metro Comets", "River Wolves", "Summit Bears", "Coast Mariners",
          "Iron Stags", "Valley Foxes", "Northern Lights", "Desert Kings", "Bay Ravens")
_LEAGUES = ("Premier League", "Champions Cup", "National Finals", "Continental League")
_COINS = (("Bitcoin", 100_000), ("Ethereum", 4_000), ("Solana", 200), ("XRP", 3), ("Dogecoin", 1))
_CITIES = ("New York City", "London", "Chicago", "Seoul", "Miami", "Toronto", "Paris", "Dallas")
_COMPANIES = ("Nimbus AI", "Quantia", "Orbital Labs", "Helix Systems", "Kestrel", "Lumen Tech")
_PRODUCTS = ("a new flagship model", "a foldable phone", "its AR headset", "a robotaxi service")
_FILMS = ("Glass Harbor", "The Last Orchard", "Midnight Relay", "Paper Suns", "Iron Meridian")
_ARTISTS = ("Nova Reyes", "The Hollow Pines", "Juno Vale", "Kid Meridian", "Saffron Lane")
_COUNTRIES = ("Arvania", "Borduria", "Carpathia", "Drevnia", "Eldoria", "Freedonia", "Genovia")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
# fmt: on


@dataclass(slots=True, frozen=True)
class Ids:
    """The identifiers of one market."""

    market_id: str
    yes_token: str
    no_token: str


def make_ids(rng: np.random.Generator, n: int) -> list[Ids]:
    """`n` fresh id triples; 256 random bits each, so collisions are not a practical concern."""
    raw = rng.integers(0, 256, size=(n, 3, 32), dtype=np.uint8)
    out = []
    for row in raw:
        out.append(
            Ids(
                market_id="0x" + row[0].tobytes().hex(),
                yes_token=str(int.from_bytes(row[1].tobytes(), "big")),
                no_token=str(int.from_bytes(row[2].tobytes(), "big")),
            )
        )
    return out


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _person(rng: np.random.Generator) -> str:
    return f"{_pick(rng, _FIRST)} {_pick(rng, _LAST)}"


def _date(ts: float) -> str:
    d = datetime.fromtimestamp(ts, tz=UTC)
    return f"{_MONTHS[d.month - 1]} {d.day}, {d.year}"


def _money(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 else f"{x:.2f}"


def question(rng: np.random.Generator, category: str, end_ts: float) -> str:
    """A plausible yes/no question for a stand-alone market of `category`."""
    when = _date(end_ts)
    year = datetime.fromtimestamp(end_ts, tz=UTC).year
    k = int(rng.integers(2))
    if category == "politics":
        if k:
            place, office = _pick(rng, _PLACES), _pick(rng, _OFFICES)
            return f"Will {_person(rng)} win the {year} {place} {office} election?"
        return f"Will {_person(rng)} still lead the {_pick(rng, _PLACES)} government on {when}?"
    if category == "sports":
        if k:
            return f"Will the {_pick(rng, _TEAMS)} win the {year} {_pick(rng, _LEAGUES)}?"
        return f"Will the {_pick(rng, _TEAMS)} beat the {_pick(rng, _TEAMS)} on {when}?"
    if category == "crypto":
        coin, ref = _COINS[int(rng.integers(len(_COINS)))]
        level = ref * float(rng.choice([0.8, 0.9, 1.1, 1.25, 1.5]))
        verb = "be above" if k else "reach"
        return f"Will {coin} {verb} ${_money(level)} by {when}?"
    if category == "economics":
        if k:
            return f"Will the Fed cut rates at its {_MONTHS[int(rng.integers(12))]} {year} meeting?"
        cpi = 2.0 + 0.1 * int(rng.integers(0, 15))
        return f"Will US CPI inflation be above {cpi:.1f}% in the report released {when}?"
    if category == "geopolitics":
        a, b = _pick(rng, _COUNTRIES), _pick(rng, _COUNTRIES)
        if k or a == b:
            return f"Will {a} hold a national referendum before {when}?"
        return f"Will {a} and {b} agree to a ceasefire by {when}?"
    if category == "culture":
        if k:
            gross = 20 * int(rng.integers(1, 8))
            return f"Will '{_pick(rng, _FILMS)}' gross over ${gross}M on its opening weekend?"
        return f"Will {_pick(rng, _ARTISTS)} top the weekly singles chart on {when}?"
    if category == "tech":
        return f"Will {_pick(rng, _COMPANIES)} release {_pick(rng, _PRODUCTS)} by {when}?"
    # weather
    temp = 40 + 5 * int(rng.integers(0, 10))
    return f"Will the highest temperature in {_pick(rng, _CITIES)} exceed {temp}°F on {when}?"


def group_questions(
    rng: np.random.Generator, category: str, k: int, end_ts: float
) -> tuple[str, list[str]]:
    """An event title and `k` mutually exclusive member questions (exactly one resolves YES)."""
    when = _date(end_ts)
    year = datetime.fromtimestamp(end_ts, tz=UTC).year
    if category == "crypto":
        coin, ref = _COINS[int(rng.integers(len(_COINS)))]
        edges = [ref * (0.85 + 0.3 * i / k) for i in range(k - 1)]
        members = [f"Will {coin} close below ${_money(edges[0])} on {when}?"]
        members += [
            f"Will {coin} close between ${_money(lo)} and ${_money(hi)} on {when}?"
            for lo, hi in itertools.pairwise(edges)
        ]
        members.append(f"Will {coin} close above ${_money(edges[-1])} on {when}?")
        return f"{coin} price on {when}?", members
    if category == "weather":
        city = _pick(rng, _CITIES)
        lo = 40 + 5 * int(rng.integers(0, 8))
        members = [f"Will the highest temperature in {city} be {lo - 1}°F or below on {when}?"]
        members += [
            f"Will the highest temperature in {city} be between {lo + 2 * i}-{lo + 2 * i + 1}°F "
            f"on {when}?"
            for i in range(k - 2)
        ]
        members.append(
            f"Will the highest temperature in {city} be {lo + 2 * (k - 2)}°F or higher on {when}?"
        )
        return f"Highest temperature in {city} on {when}?", members
    if category == "economics":
        members = [f"Will the Fed make {i} rate cuts in {year}?" for i in range(k - 1)]
        members.append(f"Will the Fed make {k - 1} or more rate cuts in {year}?")
        return f"How many Fed rate cuts in {year}?", members
    if category == "sports":
        league = _pick(rng, _LEAGUES)
        teams = _distinct(rng, _TEAMS, k)
        return f"{league} {year} winner", [f"Will the {t} win the {year} {league}?" for t in teams]
    if category == "tech":
        names = _distinct(rng, _COMPANIES, k)
        title = f"Which company has the top-ranked AI model at the end of {when}?"
        return title, [f"Will {c} have the top-ranked AI model on {when}?" for c in names]
    if category == "culture":
        films = _distinct(rng, _FILMS, k)
        return f"Best Picture {year}", [f"Will '{f}' win Best Picture in {year}?" for f in films]
    place = _pick(rng, _PLACES) if category == "politics" else _pick(rng, _COUNTRIES)
    people = _distinct_people(rng, k)
    office = _pick(rng, _OFFICES)
    return (
        f"{place} {office} election {year}",
        [f"Will {p} win the {year} {place} {office} election?" for p in people],
    )


def _distinct(rng: np.random.Generator, options: tuple[str, ...], k: int) -> list[str]:
    """`k` different names; past the list's length, numbered variants keep them distinct."""
    order = rng.permutation(len(options))
    return [
        options[int(order[i % len(options)])] + ("" if i < len(options) else f" {i}")
        for i in range(k)
    ]


def _distinct_people(rng: np.random.Generator, k: int) -> list[str]:
    seen: list[str] = []
    while len(seen) < k:
        p = _person(rng)
        if p not in seen:
            seen.append(p)
    return seen


def description(question_text: str, end_ts: float) -> str:
    return (
        f'This market resolves to "Yes" if the answer to "{question_text}" is yes by '
        f'{_date(end_ts)} (UTC), otherwise to "No". Simulated market: no real-world source.'
    )
