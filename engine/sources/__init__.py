"""Market data sources behind one interface: `sim`, later `polymarket` and `replay`."""
