"""Where the recorded Polymarket payloads are: `shared/` beside the checkout (CI and the
usual layout), else `shared/` inside it. Missing fixtures fail the tests that read them:
they are the ground truth for the parsers and the fake, never optional."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
_SUBDIR = Path("shared") / "fixtures" / "polymarket"


def _find() -> Path:
    for base in (_ROOT.parent, _ROOT):
        if (base / _SUBDIR).is_dir():
            return base / _SUBDIR
    return _ROOT.parent / _SUBDIR  # reported as missing by whoever reads it


FIXTURES = _find()


def recorded(name: str) -> Any:
    """One fixture file, parsed as JSON."""
    return json.loads((FIXTURES / name).read_text())
