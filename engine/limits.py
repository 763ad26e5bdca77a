"""Numbers the engine and the command line's flag checks share, in a module that imports
nothing.

Why here: `polyb0t --help` and a bad flag are answered from the parser alone, and a flag's
check (`--seed`, `--markets`) or help text (`backfill --fidelity`) needs the same bound the
engine enforces. Read from `engine.config` or `engine.sources.polymarket.backfill`, it would
load pydantic, the database layer and the HTTP clients first (most of a second) just to print
one line.
"""

from __future__ import annotations

# The seed is stored with the run in an INTEGER column: 32 bits signed on PostgreSQL.
SEED_MAX = 2**31 - 1
MAX_SIM_MARKETS = 100_000  # simulated markets in one world ([sim] markets)
RESOLVED_FIDELITY = (
    720  # minutes: the finest resolved markets answer at (docs/polymarket_api.md §3.2)
)
