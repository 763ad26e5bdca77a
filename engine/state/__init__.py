"""Market state: each market's book and top of book, as arrays the cycle reads."""
