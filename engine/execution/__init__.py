"""Execution: paper and live executors and the intent store that gates live orders."""
