"""What Gamma knows about the fake's markets: ids, slugs, events, tags, volumes, mid history.

The simulator names markets by condition id and token ids only; Gamma also gives every market
a short numeric id and a slug, puts every market in an event (a neg-risk group's members share
one, a stand-alone market gets its own, as on Polymarket) and tags it with its category. These
are assigned here in the order markets appear, so a seed always yields the same ids.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from dataclasses import dataclass, field

from engine.config import CATEGORIES
from engine.models import Market

DAY = 86_400.0
_FIRST_MARKET_ID = 500_001
_FIRST_SOLO_EVENT_ID = 2_000_001
# Tag ids are ours (Polymarket's are opaque numbers too); one per sim category.
CATEGORY_TAGS: dict[str, str] = {c: str(101 + i) for i, c in enumerate(CATEGORIES)}
FEE_TYPES: dict[str, str] = {"crypto": "crypto_fees", "sports": "sports_fees_v2"}


def slugify(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:90].rstrip("-") or "market"


def hex_id(*parts: str) -> str:
    """A 0x-prefixed 32-byte id derived from `parts` (question ids, neg-risk ids)."""
    return "0x" + hashlib.sha256("|".join(parts).encode()).hexdigest()


def _common(rows: list[list[str]]) -> int:
    """How many leading words all rows share."""
    n = 0
    for column in zip(*rows, strict=False):
        if any(w != column[0] for w in column):
            break
        n += 1
    return n


def event_title(questions: list[str]) -> tuple[str, list[str]]:
    """A group title with "___" where the members differ, and each member's differing part.

    Mirrors Polymarket's grouped events ("Will NVIDIA close above ___ end of January?" with
    `groupItemTitle` per member); the simulator does not keep its group titles.
    """
    words = [q.split() for q in questions]
    if len(words) < 2:
        return questions[0] if questions else "", [""] * len(questions)
    pre = _common(words)
    suf = _common([w[::-1] for w in words])
    suf = min(suf, min(len(w) for w in words) - pre)
    items = [" ".join(w[pre : len(w) - suf]) for w in words]
    head = " ".join(words[0][:pre])
    tail = " ".join(words[0][len(words[0]) - suf :]) if suf else ""
    title = " ".join(x for x in (head, "___", tail) if x)
    return title, items


@dataclass(slots=True)
class MarketInfo:
    market: Market  # latest facts (tick, resolution) as the fake tracks them
    gamma_id: str
    slug: str
    question_id: str
    event_id: str
    listed_ts: float
    group_item_title: str = ""
    neg_risk_market_id: str = ""
    neg_risk_request_id: str = ""
    closed_ts: float | None = None
    updated_ts: float = 0.0
    volume: float = 0.0  # lifetime USDC
    prints: deque[tuple[float, float]] = field(default_factory=deque)  # (ts, usdc) last day
    history: list[tuple[int, float]] = field(default_factory=list)  # (t seconds, YES mid)

    @property
    def closed(self) -> bool:
        return self.closed_ts is not None

    def add_volume(self, ts: float, usdc: float) -> None:
        self.volume += usdc
        self.prints.append((ts, usdc))
        while self.prints and self.prints[0][0] < ts - DAY:
            self.prints.popleft()

    def volume_since(self, ts: float) -> float:
        return sum(v for t, v in self.prints if t >= ts)


@dataclass(slots=True)
class EventInfo:
    id: str
    slug: str
    title: str
    category: str
    created_ts: float
    market_ids: list[str] = field(default_factory=list)
    neg_risk: bool = False
    neg_risk_market_id: str = ""


@dataclass(slots=True)
class Catalog:
    markets: dict[str, MarketInfo] = field(default_factory=dict)  # by condition id, in order
    events: dict[str, EventInfo] = field(default_factory=dict)
    by_token: dict[str, str] = field(default_factory=dict)
    by_gamma_id: dict[str, str] = field(default_factory=dict)
    by_slug: dict[str, str] = field(default_factory=dict)
    event_by_slug: dict[str, str] = field(default_factory=dict)
    _next_market: int = _FIRST_MARKET_ID
    _next_solo_event: int = _FIRST_SOLO_EVENT_ID

    def _unique_slug(self, base: str, taken: dict[str, str]) -> str:
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        return slug

    def add_all(self, markets: list[Market], ts: float) -> list[MarketInfo]:
        """Register markets (a discovery or listings); group members join one event each."""
        out = [self._add(m, ts) for m in markets]
        for ev in {self.events[i.event_id].id for i in out}:
            self._retitle(self.events[ev])
        return out

    def _add(self, m: Market, ts: float) -> MarketInfo:
        gid = str(self._next_market)
        self._next_market += 1
        slug = self._unique_slug(slugify(m.question), self.by_slug)
        if m.event_id is not None:
            event_id = m.event_id
            ev = self.events.get(event_id)
            if ev is None:
                nr_id = hex_id("neg-risk", event_id)[:-2] + "00"
                ev = EventInfo(event_id, "", "", m.category, m.created_ts, neg_risk=m.neg_risk,
                               neg_risk_market_id=nr_id if m.neg_risk else "")  # fmt: skip
                self.events[event_id] = ev
            index = len(ev.market_ids)
            qid = (
                ev.neg_risk_market_id[:-2] + f"{index:02x}"
                if m.neg_risk
                else hex_id("q", m.market_id)
            )
        else:
            event_id = str(self._next_solo_event)
            self._next_solo_event += 1
            ev = EventInfo(event_id, "", m.question, m.category, m.created_ts)
            self.events[event_id] = ev
            qid = hex_id("q", m.market_id)
        ev.market_ids.append(m.market_id)
        info = MarketInfo(
            market=m,
            gamma_id=gid,
            slug=slug,
            question_id=qid,
            event_id=event_id,
            listed_ts=ts,
            neg_risk_market_id=ev.neg_risk_market_id,
            neg_risk_request_id=hex_id("request", m.market_id) if m.neg_risk else "",
            updated_ts=ts,
            volume=m.volume,
        )
        self.markets[m.market_id] = info
        self.by_token[m.yes_token] = m.market_id
        self.by_token[m.no_token] = m.market_id
        self.by_gamma_id[gid] = m.market_id
        self.by_slug[slug] = m.market_id
        return info

    def _retitle(self, ev: EventInfo) -> None:
        members = [self.markets[c] for c in ev.market_ids]
        if len(members) > 1:
            ev.title, items = event_title([i.market.question for i in members])
            for info, item in zip(members, items, strict=True):
                info.group_item_title = item
        if not ev.slug:
            ev.slug = self._unique_slug(slugify(ev.title), self.event_by_slug)
            self.event_by_slug[ev.slug] = ev.id

    def market_of_token(self, token: str) -> MarketInfo | None:
        cid = self.by_token.get(token)
        return self.markets[cid] if cid is not None else None
