"""Turning features into probabilities (`Predictor`) and probabilities into candidates."""
