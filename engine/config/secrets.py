"""Secrets in the settings: which values are never shown, and how they are masked.

Live credentials and a database password must not reach a screen, a log or an error line:
`looks_like_secret` recognises a value pasted where it should not be, `masked_dump` is what
`config show` prints, `secret_values` feeds the log filter, `mask_url` hides a URL's
password.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from pydantic import BaseModel, SecretStr

if TYPE_CHECKING:
    from engine.config.settings import Settings

SECRET_SETTINGS = ("private_key", "api_key", "api_secret", "api_passphrase")
# Fields whose value is never shown, whatever it looks like (the URL may hold a password).
HIDDEN_FIELDS = frozenset({*SECRET_SETTINGS, "database_url"})
# A misspelt field named like one of these probably holds a secret too.
SECRET_NAME = re.compile(r"key|secret|pass|token|private|mnemonic|credential", re.IGNORECASE)
_HEX_KEY = re.compile(r"(?:0x)?[0-9a-fA-F]{64}")  # a private key, a passphrase
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9+/=_-]{32,}")  # base64 secrets, UUID api keys
_SNAKE_CASE = re.compile(r"[a-z]+(?:_[a-z]+)+")
_LONG_INT = 10**30  # a hex key written as a TOML integer (0xab...) is ~77 digits


def looks_like_secret(value: Any, depth: int = 0) -> bool:
    """Could `value` be a key or token pasted into the config? Then it is never echoed.

    Errs towards hiding: any run of 32 or more base64 characters is treated as one (a
    setting's own values are short words, numbers, paths and URLs), and so is anything
    nested too deep to look through.
    """
    if depth > 8:
        return True
    if isinstance(value, SecretStr):
        return True
    if isinstance(value, str):
        text = value.strip()
        if _SNAKE_CASE.fullmatch(text):  # a long setting name, not a token
            return False
        return bool(_HEX_KEY.fullmatch(text) or _TOKEN_LIKE.fullmatch(text))
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) >= _LONG_INT
    if isinstance(value, Mapping):
        return any(
            looks_like_secret(k, depth + 1) or looks_like_secret(v, depth + 1)
            for k, v in value.items()
        )
    if isinstance(value, list | tuple | set | frozenset):
        return any(looks_like_secret(v, depth + 1) for v in value)
    return False


def masked_dump(settings: Settings) -> dict[str, Any]:
    """Settings as plain data with every secret masked (for `config show`)."""

    def walk(obj: Any) -> Any:
        if isinstance(obj, SecretStr):
            return "********" if obj.get_secret_value() else ""
        if isinstance(obj, BaseModel):
            return {k: walk(getattr(obj, k)) for k in type(obj).model_fields}
        if isinstance(obj, dict):
            return {k: walk(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [walk(v) for v in obj]
        if isinstance(obj, Path):
            return str(obj)
        if isinstance(obj, datetime):
            return obj.isoformat()
        return obj

    out = walk(settings)
    out["database_url"] = mask_url(settings.db_url)
    return out  # type: ignore[no-any-return]


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret in clear, for the log filter to mask; never for display.

    The database password is one too: a driver error may quote the URL it was given.
    """
    live = settings.live
    values = [
        s.get_secret_value()
        for s in (live.private_key, live.api_key, live.api_secret, live.api_passphrase)
        if s is not None
    ]
    parts = url_parts(settings.db_url)
    if parts is not None and parts[2]:
        values += [parts[2], unquote(parts[2])]
    return [v for v in dict.fromkeys(values) if v]


def mask_url(url: str) -> str:
    """Hide a password in a database URL (postgresql://user:pw@host/db)."""
    parts = url_parts(url)
    if parts is None:
        return url
    scheme, user, _, host = parts
    return f"{scheme}://{user}:********@{host}"


def url_parts(url: str) -> tuple[str, str, str, str] | None:
    """(scheme, user, password as written, host part) of a URL with credentials, else None."""
    if "://" not in url or "@" not in url:
        return None
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user, _, password = creds.partition(":")
    return scheme, user, password, host
