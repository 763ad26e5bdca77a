"""The one redaction every log line and database text goes through."""

from __future__ import annotations

from engine.redact import MASK, Redactor

KEY = "0x" + "ab12" * 16


def test_a_hex_key_is_masked_in_either_case_and_without_its_prefix() -> None:
    clean = Redactor([KEY, "pw"])  # "pw": too short to mask without masking words
    text = f"a {KEY} b {KEY.upper()} c {KEY[2:]} d {KEY[2:].upper()} pw"
    assert clean(text) == f"a {MASK} b {MASK} c {MASK} d {MASK} pw"
    assert clean.optional(None) is None


def test_other_secrets_are_masked_as_given_and_nothing_else_changes() -> None:
    clean = Redactor(["s3cr3t/pass+word"])
    assert clean("url postgresql://u:s3cr3t/pass+word@h/db") == f"url postgresql://u:{MASK}@h/db"
    assert clean("nothing to see") == "nothing to see"
    empty = Redactor([])
    assert not empty and empty(KEY) == KEY
