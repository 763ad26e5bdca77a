"""Masking configured secrets in any text: log records and everything written to the database.

Secrets never go into messages in the first place, but an exception's text can quote what it
was given (a URL with its password, a signing error with the key), and such text ends up in
logs, in `engine_events` and in intent reasons. Every such text goes through one `Redactor`
built from the configured secrets. A hex key is also caught without its `0x` prefix and in
either case, as libraries print it both ways.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "********"
MIN_SECRET_CHARS = 4  # shorter values would mask ordinary words


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants: set[str] = set()
        for s in secrets:
            if not s or len(s) < MIN_SECRET_CHARS:
                continue
            variants.add(s)
            bare = s[2:] if s[:2] in ("0x", "0X") else s
            if len(bare) >= MIN_SECRET_CHARS and all(c in "0123456789abcdefABCDEF" for c in bare):
                variants.add(bare)  # hex: any case, with or without the prefix
        # Longest first, so a key is masked whole before its bare form could split it.
        ordered = sorted(variants, key=len, reverse=True)
        self._pattern = (
            re.compile("|".join(re.escape(v) for v in ordered), re.IGNORECASE) if ordered else None
        )

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def optional(self, text: str | None) -> str | None:
        return None if text is None else self(text)
