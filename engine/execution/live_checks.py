"""`polyb0t doctor` checks for live mode: each says ok / not ok / unknown, what it saw, and
what to do about it.

A check that cannot tell (an endpoint missing, the network down) answers `ok=None`, shown as
UNKNOWN: it must never read as a pass. Every check is synchronous and talks to the exchange,
so the doctor runs them from a worker thread, or from the CLI before any event loop exists.
Messages never contain a secret: they are built from addresses, status codes and the
exchange's error text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Literal, NamedTuple

import httpx

from engine.config import LiveSettings
from engine.execution.clob_answers import AnswerError, parse_balance
from engine.execution.clob_client import ClobError, ClobSession
from engine.execution.clob_settings import ClobSettings
from engine.execution.clob_wallet import (
    WalletError,
    WalletKeys,
    address_of,
    check_wallet,
)
from engine.execution.held_positions import parse_positions
from engine.input_bounds import decode_json

Severity = Literal["error", "warning"]


class CheckResult(NamedTuple):
    ok: bool | None  # None: unknown, which is not a pass
    detail: str
    hint: str
    severity: Severity = "error"  # how a False reads: FAIL, or WARN

    @property
    def label(self) -> str:
        if self.ok is None:
            return "UNKNOWN"
        if self.ok:
            return "OK"
        return "WARN" if self.severity == "warning" else "FAIL"


def check_signature_type(live: LiveSettings) -> CheckResult:
    """Signature type against funder (no network)."""
    if live.private_key is None:
        return CheckResult(False, "no live.private_key configured", "set POLYBOT_LIVE__PRIVATE_KEY")
    try:
        signer = address_of(live.private_key)
        wallet = check_wallet(live.signature_type, signer, live.funder)
    except WalletError as exc:
        return CheckResult(False, str(exc), "fix live.signature_type / live.funder")
    return CheckResult(
        True,
        f"signature type {wallet.signature_type} ({wallet.type_name}): signer "
        f"{wallet.signer}, funds in {wallet.funder}",
        "",
    )


def check_credentials(session: ClobSession) -> CheckResult:
    """The API credentials work: an authenticated call succeeds, and trading is allowed."""
    try:
        session.connect()
        closed_only = session.closed_only()
    except ClobError as exc:
        return CheckResult(
            False,
            f"authenticated call failed: {exc}",
            "check live.api_key/api_secret/api_passphrase, or remove them to derive them "
            "from the private key",
        )
    if closed_only:
        return CheckResult(
            False,
            "the account is in closed-only mode: new orders are refused",
            "see polymarket.com for the account's status",
        )
    return CheckResult(True, f"credentials accepted for {session.wallet.signer}", "")


def check_balance(session: ClobSession) -> CheckResult:
    """Collateral balance, and allowances to every exchange contract an order may settle on."""
    try:
        session.connect()
        body = session.balance_allowance()
    except ClobError as exc:
        return CheckResult(None, f"balance not readable: {exc}", "try again; check the network")
    try:
        parsed = parse_balance(body)
    except AnswerError as exc:
        return CheckResult(None, f"balance unreadable: {exc}", "")
    balance = parsed.balance
    missing = [
        f"{name} {address}"
        for name, address in session.exchange_addresses().items()
        if not parsed.allows(address)
    ]
    if balance <= 0:
        return CheckResult(
            False,
            f"collateral balance is 0 in {session.wallet.funder}",
            "deposit pUSD to the funder address (for a proxy wallet that is the funder, not "
            "the key's address)",
        )
    if missing and session.wallet.signature_type == 0:
        return CheckResult(
            False,
            f"balance {balance:.2f}; no allowance for: {', '.join(missing)}",
            "an EOA must approve pUSD and the outcome tokens for the exchange, the neg-risk "
            "exchange and the neg-risk adapter before trading",
        )
    detail = f"balance {balance:.2f} USDC in {session.wallet.funder}"
    if missing:
        detail += f" (exchange reports no allowance for {', '.join(missing)})"
    return CheckResult(True, detail, "")


def check_geoblock(url: str, http: httpx.Client | None = None) -> CheckResult:
    """Polymarket's geoblock endpoint (docs/polymarket_api.md §1): blocked, not, or unknown."""
    client = http or httpx.Client(timeout=10.0)
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        return CheckResult(None, f"geoblock endpoint unreachable ({type(exc).__name__})", "")
    finally:
        if http is None:
            client.close()
    if response.status_code != 200:
        return CheckResult(
            None,
            f"geoblock status unknown: {url} answered HTTP {response.status_code}",
            "not a pass: check polymarket.com's terms for your location",
        )
    try:
        body = decode_json(response.content, json.loads)  # nesting bounded (input_bounds)
        blocked = body["blocked"]
    except (ValueError, KeyError, TypeError):
        return CheckResult(None, "geoblock status unknown: unexpected answer", "")
    where = "/".join(str(body.get(k)) for k in ("country", "region") if body.get(k))
    if blocked:
        return CheckResult(
            False,
            f"trading is blocked from this location ({where or 'unknown'})",
            "Polymarket refuses orders from here",
        )
    return CheckResult(True, f"not geoblocked ({where or 'location not given'})", "")


def check_clock(
    session: ClobSession, max_skew_s: float, clock: Callable[[], float] = time.time
) -> CheckResult:
    """Local clock against `GET /time`: signed headers with a skewed clock are refused."""
    try:
        before = clock()
        server = session.server_time()
        after = clock()
    except ClobError as exc:
        return CheckResult(None, f"server time unknown: {exc}", "")
    skew = (before + after) / 2 - server
    detail = f"local clock is {skew:+.1f}s from the exchange's"
    if abs(skew) > max_skew_s:
        return CheckResult(
            False,
            detail,
            "sync the system clock (NTP), or let the client sign with server time",
            severity="warning",
        )
    return CheckResult(True, detail, "")


def check_positions(session: ClobSession) -> CheckResult:
    """The tokens the funder holds (Data API): live start-up adopts them so the risk limits
    count them; unreadable, they would be invisible to the limits."""
    try:
        held = parse_positions(session.positions())
    except (ClobError, AnswerError) as exc:
        return CheckResult(
            False,
            f"positions not readable: {exc}",
            "check polymarket.data_url and the network: without it, shares bought before a "
            "run are not counted by the position and exposure limits",
            severity="warning",
        )
    resolved = sum(h.redeemable for h in held)
    detail = f"{len(held) - resolved} position(s) held by {session.wallet.funder}"
    if resolved:
        detail += f"; {resolved} resolved, waiting to be redeemed"
    return CheckResult(True, detail, "")


def run_live_checks(
    live: LiveSettings, clob: ClobSettings, http: httpx.Client | None = None
) -> dict[str, CheckResult]:
    """Every live check, in the order the doctor prints them; the network checks are skipped
    (UNKNOWN) while the wallet settings themselves are wrong."""
    out = {"signature type / funder": check_signature_type(live)}
    try:
        keys = WalletKeys.from_settings(live)
    except WalletError as exc:
        skipped = CheckResult(None, "skipped: the wallet settings are wrong", str(exc))
        names = ("credentials", "balance / allowances", "positions held", "clock skew")
        out.update(dict.fromkeys(names, skipped))
        out["geoblock"] = check_geoblock(clob.geoblock_url, http)
        return out
    session = ClobSession(keys, clob, http)
    out["credentials"] = check_credentials(session)
    out["balance / allowances"] = check_balance(session)
    out["positions held"] = check_positions(session)
    out["geoblock"] = check_geoblock(clob.geoblock_url, http)
    out["clock skew"] = check_clock(session, clob.max_clock_skew_s)
    if http is None:
        session.close()
    return out
