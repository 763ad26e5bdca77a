"""The recorded Polymarket payloads the tests read, kept in the repository.

`tests/fixtures/polymarket/` holds them byte for byte as recorded (never edited), with
`SOURCES.md` saying where each came from (repository, path, commit) and whether it is a real
capture or a synthetic one. They are the ground truth for the parsers and the fake, so a
fresh clone's `pytest` needs nothing beside the checkout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "polymarket"


def recorded(name: str) -> Any:
    """One fixture file, parsed as JSON."""
    return json.loads((FIXTURES / name).read_text())
