"""The decision cycle: universe filter, features, strategy, candidates."""
