"""Deterministic ids: a seeded run must produce the same orders and fills every time.

Ids carry the run's prefix so rows from different runs never collide in the database.
"""

from __future__ import annotations

import itertools
import uuid


def new_run_id() -> str:
    return uuid.uuid4().hex[:8]


class IdGen:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._n = itertools.count(1)

    def __call__(self) -> str:
        return f"{self.prefix}-{next(self._n):06d}"
