"""The market table's rows, filter and sort order, without any drawing.

Kept apart from the widget so the expensive decisions are plain code: an update replaces rows
in place and says which displayed positions changed; the order is rebuilt only when asked
(the widget asks on a slow timer, or at once when the person changes sort or filter), so
2,000 row updates a second never re-sort 10,000 rows each time. Numeric sorts use one numpy
key array kept current per changed row; text sorts are rare (questions do not change).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from engine.feed.view import MarketRow


@dataclass(frozen=True, slots=True)
class SortKey:
    key: str
    title: str
    text: bool = False  # sorts as case-folded text, ascending by default


# The order `s` cycles through; `end_ts` stands for time to resolution.
SORT_KEYS: tuple[SortKey, ...] = (
    SortKey("volume", "volume"),
    SortKey("edge", "edge"),
    SortKey("change_24h", "24h change"),
    SortKey("end_ts", "time to resolution"),
    SortKey("spread", "spread"),
    SortKey("p_model", "p model"),
    SortKey("mid", "mid"),
    SortKey("bid", "bid"),
    SortKey("ask", "ask"),
    SortKey("question", "question", text=True),
    SortKey("category", "category", text=True),
)
SORT_BY_KEY = {s.key: s for s in SORT_KEYS}


def _default_descending(key: SortKey) -> bool:
    # Text reads A to Z; time to resolution soonest first; other numbers biggest first.
    return not key.text and key.key != "end_ts"


class MarketModel:
    def __init__(self, sort: str = "volume") -> None:
        self.rows: list[MarketRow | None] = []
        self.order: list[int] = []  # row ids in display order (filtered)
        self.pos = np.full(0, -1, dtype=np.int64)  # row id -> display position, -1 hidden
        self.sort = SORT_BY_KEY[sort]
        self.descending = _default_descending(self.sort)
        self.filter = ""
        self._match = np.zeros(0, dtype=bool)
        self._key = np.zeros(0, dtype=np.float64)
        self._hay: list[str] = []
        self.stale = False  # the order no longer reflects the values (rebuild on the timer)

    # --- updates -----------------------------------------------------------------------

    def apply(self, rows: Iterable[MarketRow], n_rows: int, full: bool) -> list[int]:
        """Fold changed rows in; returns their row ids. New rows, or a changed sort value of
        a shown row, mark the order stale; nothing is re-sorted here."""
        if full:
            self._reset(n_rows)
        elif n_rows > len(self.rows):
            self._grow(n_rows)
        changed: list[int] = []
        sort_key, text = self.sort.key, self.sort.text
        for r in rows:
            i = r.row
            old = self.rows[i]
            self.rows[i] = r
            changed.append(i)
            if old is None or old.question != r.question or old.category != r.category:
                self._hay[i] = f"{r.question} {r.category}".casefold()
                match = self._matches(i)
                if match != self._match[i] or old is None:
                    self._match[i] = match
                    self.stale = True
            if text:
                if old is not None and getattr(old, sort_key) != getattr(r, sort_key):
                    self.stale = self.stale or bool(self._match[i])
            else:
                v = float(getattr(r, sort_key))
                k = self._key[i]
                if not (v == k or (v != v and k != k)):
                    self._key[i] = v
                    self.stale = self.stale or bool(self._match[i])
        return changed

    def _reset(self, n: int) -> None:
        self.rows = [None] * n
        self.order = []
        self.pos = np.full(n, -1, dtype=np.int64)
        self._match = np.zeros(n, dtype=bool)
        self._key = np.full(n, np.nan)
        self._hay = [""] * n
        self.stale = True

    def _grow(self, n: int) -> None:
        extra = n - len(self.rows)
        self.rows.extend([None] * extra)
        self.pos = np.concatenate([self.pos, np.full(extra, -1, dtype=np.int64)])
        self._match = np.concatenate([self._match, np.zeros(extra, dtype=bool)])
        self._key = np.concatenate([self._key, np.full(extra, np.nan)])
        self._hay.extend([""] * extra)

    def _matches(self, i: int) -> bool:
        return not self.filter or self.filter in self._hay[i]

    # --- what the person asks for --------------------------------------------------------

    def set_filter(self, text: str) -> None:
        needle = text.strip().casefold()
        if needle == self.filter:
            return
        self.filter = needle
        self._match = np.fromiter(
            (
                r is not None and (not needle or needle in h)
                for r, h in zip(self.rows, self._hay, strict=True)
            ),
            dtype=bool,
            count=len(self.rows),
        )
        self.stale = True

    def set_sort(self, key: str, descending: bool | None = None) -> None:
        spec = SORT_BY_KEY[key]
        if spec is not self.sort:
            self.sort = spec
            if not spec.text:
                self._key = np.fromiter(
                    (np.nan if r is None else float(getattr(r, key)) for r in self.rows),
                    dtype=np.float64,
                    count=len(self.rows),
                )
        self.descending = _default_descending(spec) if descending is None else descending
        self.stale = True

    def cycle_sort(self) -> None:
        keys = [s.key for s in SORT_KEYS]
        self.set_sort(keys[(keys.index(self.sort.key) + 1) % len(keys)])

    def reverse(self) -> None:
        self.descending = not self.descending
        self.stale = True

    # --- order -----------------------------------------------------------------------------

    def rebuild(self) -> bool:
        """Recompute the display order; True if it changed."""
        ids = np.flatnonzero(self._match)
        if self.sort.text:
            attr = self.sort.key
            rows = self.rows
            order = sorted(
                ids.tolist(),
                key=lambda i: (getattr(rows[i], attr).casefold(), i),
                reverse=self.descending,
            )
        else:
            vals = self._key[ids]
            missing = np.isnan(vals)
            vals = np.where(missing, 0.0, -vals if self.descending else vals)
            # primary: missing last; then value; ties by row id (stable across rebuilds)
            order = ids[np.lexsort((ids, vals, missing))].tolist()
        self.stale = False
        if order == self.order:
            return False
        self.order = order
        self.pos.fill(-1)
        if order:
            self.pos[np.asarray(order, dtype=np.int64)] = np.arange(len(order))
        return True

    def positions(self, row_ids: list[int]) -> np.ndarray:
        """Display positions of these rows (-1 where filtered out or not placed yet)."""
        if not row_ids:
            return np.zeros(0, dtype=np.int64)
        return self.pos[np.asarray(row_ids, dtype=np.int64)]

    def at(self, position: int) -> MarketRow | None:
        if 0 <= position < len(self.order):
            return self.rows[self.order[position]]
        return None

    def __len__(self) -> int:
        return len(self.order)
