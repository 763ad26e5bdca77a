"""The live CLOB executor's knobs, as the executor takes them.

`polyb0t_tui.runtime.clob_settings` fills one from `[live]` and `[polymarket]` (the settings a
person edits, validated there); tests build their own. The executor never reads config or the
environment itself. Every default is chosen from what docs/polymarket_api.md reports of
production (hosts §1, the 10 s heartbeat window §4.7, the one-minute GTD buffer §4.4) or to
stay well inside it, and matches the config default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OrderType = Literal["GTC", "GTD", "FOK", "FAK"]
RESTING_TYPES: frozenset[str] = frozenset({"GTC", "GTD"})


@dataclass(frozen=True, slots=True)
class ClobSettings:
    host: str = "https://clob.polymarket.com"
    chain_id: int = 137  # Polygon; 80002 is the Amoy testnet
    # How an approved intent is sent. FAK is a marketable limit that never rests, which is
    # what the paper executor simulates and what the person approved (take now at <= limit).
    order_type: OrderType = "FAK"
    # GTD lifetime. Polymarket keeps an internal buffer of about a minute, so the expiration
    # signed is now + 60 s + this.
    gtd_seconds: float = 300.0
    request_timeout_s: float = 10.0  # every call but POST /order
    # POST /order. A post that runs past it is looked up before anything is sent again.
    post_timeout_s: float = 10.0
    post_attempts: int = 4  # sends of the one signed order (the same hash every time)
    lookup_attempts: int = 3  # reads (order, trades, market info) per lookup
    backoff_base_s: float = 0.5  # exponential backoff between attempts (no Retry-After)
    backoff_max_s: float = 8.0
    max_retry_after_s: float = 30.0  # a 429's Retry-After is honoured up to this
    # A SUBMITTED intent whose order is neither open nor traded is failed only this long
    # after it was claimed: an answer still on its way could yet create the order.
    lookup_grace_s: float = 120.0
    poll_interval_s: float = 5.0  # how often one SUBMITTED intent is looked up again
    # Dead-man switch: Polymarket cancels every order of the key if heartbeats started and
    # one is missed for 10 s. Sent only when orders can rest (GTC/GTD); None switches it off.
    heartbeat_interval_s: float | None = 5.0
    use_server_time: bool = False  # sign L1/L2 headers with GET /time instead of the clock
    geoblock_url: str = "https://polymarket.com/api/geoblock"
    data_url: str = "https://data-api.polymarket.com"  # positions held (read at start-up)
    max_clock_skew_s: float = 5.0  # doctor warns above this
    # Trades older than this (seconds) are left out of start-up reconciliation.
    reconcile_lookback_s: float = 86_400.0

    def __post_init__(self) -> None:
        problems = [
            name
            for name, value in (
                ("gtd_seconds", self.gtd_seconds),
                ("request_timeout_s", self.request_timeout_s),
                ("post_timeout_s", self.post_timeout_s),
                ("poll_interval_s", self.poll_interval_s),
                ("max_clock_skew_s", self.max_clock_skew_s),
            )
            if not value > 0
        ]
        if self.order_type not in ("GTC", "GTD", "FOK", "FAK"):
            problems.append(f"order_type {self.order_type!r} (GTC, GTD, FOK or FAK)")
        if self.post_attempts < 1 or self.lookup_attempts < 1:
            problems.append("post_attempts/lookup_attempts (at least 1)")
        if self.heartbeat_interval_s is not None and not 0 < self.heartbeat_interval_s < 10:
            problems.append("heartbeat_interval_s (between 0 and 10 s: Polymarket's window)")
        if problems:
            raise ValueError("invalid ClobSettings: " + ", ".join(problems))

    @property
    def rests(self) -> bool:
        """Whether orders of the configured type can rest on the book."""
        return self.order_type in RESTING_TYPES
