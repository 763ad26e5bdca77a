"""The simulated exchange (`--source sim`): a seeded, Polymarket-like world.

Modules: `world` (markets and their columns), `naming` (ids, questions), `dynamics` (hidden
truth and traded price), `books` (L2 books on tick grids), `flow` (trades, orders coming and
going), `emit` (array changes to source events), `exchange` (`SimExchange`, the stepping).
"""

from engine.sources.sim.exchange import SimExchange

__all__ = ["SimExchange"]
