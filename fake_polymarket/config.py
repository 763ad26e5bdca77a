"""Knobs of the fake Polymarket that are not the simulated world's (those are `SimSettings`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class FakeConfig:
    """How the fake behaves; defaults follow what docs/polymarket_api.md reports of production.

    `speed` is fake seconds per wall second; 0 freezes the clock so a test moves time only
    with `FakePolymarket.advance`, which makes every message sequence deterministic.
    """

    speed: float = 1.0
    start_ts: float | None = None  # fake clock at start; default: the sim's start, else wall now
    step_interval_s: float = 0.05  # how often (wall) the world catches up with the fake clock
    initial_balance_usdc: float = 10_000.0  # every new account's collateral
    chain_id: int = 137
    verify_signatures: bool = True  # EIP-712 checks on L1 headers and orders
    auth_max_skew_s: float | None = None  # reject L1/L2 timestamps further from the fake clock
    gamma_default_limit: int = 20
    gamma_max_limit: int = 500
    clob_page_size: int = 1000  # CLOB /markets page (1000 observed in 2026)
    data_page_size: int = 500  # /data/orders, /data/trades
    batch_limit: int = 500  # token ids per POST /books, /prices, ...
    max_batch_orders: int = 15  # POST /orders
    ws_max_assets: int = 500  # assets per market-channel connection
    history_step_s: float = 60.0  # /prices-history resolution (Polymarket: 1 minute)
    trade_mined_after_s: float = 2.0  # fake seconds from MATCHED to MINED
    trade_confirmed_after_s: float = 6.0  # ... to CONFIRMED
    heartbeat_timeout_s: float = 10.0  # missed heartbeat cancels every order of the account
    gtd_buffer_s: float = 60.0  # GTD expiration must be this far ahead (Polymarket: ~1 min)
