"""Polymarket authentication as the server sees it: API creds, L2 HMAC, L1 and order EIP-712.

- L2: `POLY_SIGNATURE` = urlsafe-base64 HMAC-SHA256, keyed with the urlsafe-base64-decoded
  secret, over `timestamp + METHOD + path-without-query + raw body` (docs/polymarket_api.md
  §4.3 and gotcha G15).
- L1: an EIP-712 `ClobAuth` message signed by the wallet (domain `ClobAuthDomain` v1, no
  verifying contract). The signer is recovered with `eth_account` and must be `POLY_ADDRESS`.
- Orders: the V2 `Order` struct, domain "Polymarket CTF Exchange" version "2" with the V2
  exchange (or neg-risk exchange) as verifying contract; the order id is the struct's
  EIP-712 hash, as on Polymarket.

Credentials are derived from a per-server secret, the address and the nonce, so "derive"
returns what "create" made without storing secrets anywhere but in memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils.crypto import keccak

CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"
EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE_V2 = "0xe2222d279d744050d28e00520010520000310F59"
NEG_RISK_ADAPTER = "0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296"
MAX_UINT256 = str(2**256 - 1)

_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
]
_ORDER_V2_FIELDS = [
    {"name": "salt", "type": "uint256"},
    {"name": "maker", "type": "address"},
    {"name": "signer", "type": "address"},
    {"name": "tokenId", "type": "uint256"},
    {"name": "makerAmount", "type": "uint256"},
    {"name": "takerAmount", "type": "uint256"},
    {"name": "side", "type": "uint8"},
    {"name": "signatureType", "type": "uint8"},
    {"name": "timestamp", "type": "uint256"},
    {"name": "metadata", "type": "bytes32"},
    {"name": "builder", "type": "bytes32"},
]


@dataclass(slots=True, frozen=True)
class ApiCreds:
    api_key: str
    secret: str
    passphrase: str
    address: str  # checksum as sent by the client at creation
    nonce: int

    def as_json(self) -> dict[str, str]:
        return {"apiKey": self.api_key, "secret": self.secret, "passphrase": self.passphrase}


def derive_creds(server_secret: bytes, address: str, nonce: int) -> ApiCreds:
    """Deterministic creds for (address, nonce), shaped like Polymarket's (uuid, b64url, hex)."""
    seed = hmac.new(server_secret, f"{address.lower()}:{nonce}".encode(), hashlib.sha256).digest()
    key = str(uuid.UUID(bytes=seed[:16], version=4))
    secret_bytes = hmac.new(server_secret, b"secret" + seed, hashlib.sha256).digest()
    passphrase = hmac.new(server_secret, b"pass" + seed, hashlib.sha256).hexdigest()
    secret = base64.urlsafe_b64encode(secret_bytes).decode()
    return ApiCreds(key, secret, passphrase, address, nonce)


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: str) -> str:
    key = base64.urlsafe_b64decode(secret)
    msg = f"{timestamp}{method}{path}{body}".encode()
    return base64.urlsafe_b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()


def _digest(message: SignableMessage) -> bytes:
    return bytes(keccak(b"\x19" + message.version + message.header + message.body))


def recover_l1_signer(
    address: str, timestamp: str, nonce: int, signature: str, chain_id: int
) -> str | None:
    """Address that signed the `ClobAuth` message, or None when the signature is unusable."""
    typed: dict[str, Any] = {
        "types": {
            "EIP712Domain": _DOMAIN_FIELDS,
            "ClobAuth": [
                {"name": "address", "type": "address"},
                {"name": "timestamp", "type": "string"},
                {"name": "nonce", "type": "uint256"},
                {"name": "message", "type": "string"},
            ],
        },
        "primaryType": "ClobAuth",
        "domain": {"name": "ClobAuthDomain", "version": "1", "chainId": chain_id},
        "message": {
            "address": address,
            "timestamp": timestamp,
            "nonce": nonce,
            "message": CLOB_AUTH_MESSAGE,
        },
    }
    return _recover(typed, signature)


def _bytes32(value: str) -> bytes:
    raw = bytes.fromhex(value.removeprefix("0x"))
    if len(raw) > 32:
        raise ValueError("bytes32 value too long")
    return raw.rjust(32, b"\0")


def order_typed_data(order: Mapping[str, Any], chain_id: int, neg_risk: bool) -> dict[str, Any]:
    """The V2 order as EIP-712 typed data; raises ValueError/KeyError on malformed fields."""
    side = order["side"]
    side_int = {"BUY": 0, "SELL": 1}[side] if isinstance(side, str) else int(side)
    return {
        "types": {
            "EIP712Domain": [*_DOMAIN_FIELDS, {"name": "verifyingContract", "type": "address"}],
            "Order": _ORDER_V2_FIELDS,
        },
        "primaryType": "Order",
        "domain": {
            "name": "Polymarket CTF Exchange",
            "version": "2",
            "chainId": chain_id,
            "verifyingContract": NEG_RISK_EXCHANGE_V2 if neg_risk else EXCHANGE_V2,
        },
        "message": {
            "salt": int(order["salt"]),
            "maker": str(order["maker"]),
            "signer": str(order["signer"]),
            "tokenId": int(order["tokenId"]),
            "makerAmount": int(order["makerAmount"]),
            "takerAmount": int(order["takerAmount"]),
            "side": side_int,
            "signatureType": int(order["signatureType"]),
            "timestamp": int(order["timestamp"]),
            "metadata": _bytes32(str(order.get("metadata") or "0x0")),
            "builder": _bytes32(str(order.get("builder") or "0x0")),
        },
    }


def order_hash(typed: dict[str, Any]) -> str:
    return "0x" + _digest(encode_typed_data(full_message=typed)).hex()


def recover_order_signer(typed: dict[str, Any], signature: str) -> str | None:
    return _recover(typed, signature)


def _recover(typed: dict[str, Any], signature: str) -> str | None:
    try:
        signer: str = Account.recover_message(
            encode_typed_data(full_message=typed), signature=signature
        )
    except Exception:  # malformed signature bytes, bad v, ...: all mean "invalid signature"
        return None
    return signer


class AuthError(Exception):
    """A request that fails authentication; carries Polymarket's status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


L1_INVALID = "Invalid L1 Request headers"
L2_INVALID = "Unauthorized/Invalid api key"


class Keyring:
    """API credentials issued by this fake, and the L1/L2 checks on request headers."""

    def __init__(self, chain_id: int, verify_signatures: bool, max_skew_s: float | None) -> None:
        self._secret = os.urandom(32)
        self._chain_id = chain_id
        self._verify = verify_signatures
        self._max_skew = max_skew_s
        self._by_key: dict[str, ApiCreds] = {}

    def _fresh(self, timestamp: str, now: float) -> bool:
        if self._max_skew is None:
            return True
        try:
            return abs(float(timestamp) - now) <= self._max_skew
        except ValueError:
            return False

    def check_l1(self, headers: Mapping[str, str], now: float) -> tuple[str, int]:
        """(address, nonce) of a valid L1 request; AuthError otherwise."""
        address = headers.get("POLY_ADDRESS", "")
        signature = headers.get("POLY_SIGNATURE", "")
        timestamp = headers.get("POLY_TIMESTAMP", "")
        try:
            nonce = int(headers.get("POLY_NONCE", "0") or "0")
        except ValueError:
            raise AuthError(401, L1_INVALID) from None
        if not (address and signature and timestamp) or not self._fresh(timestamp, now):
            raise AuthError(401, L1_INVALID)
        if self._verify:
            signer = recover_l1_signer(address, timestamp, nonce, signature, self._chain_id)
            if signer is None or signer.lower() != address.lower():
                raise AuthError(401, L1_INVALID)
        return address, nonce

    def create(self, address: str, nonce: int) -> ApiCreds | None:
        """New creds for (address, nonce); None when they already exist (Polymarket refuses)."""
        creds = derive_creds(self._secret, address, nonce)
        if creds.api_key in self._by_key:
            return None
        self._by_key[creds.api_key] = creds
        return creds

    def derive(self, address: str, nonce: int) -> ApiCreds | None:
        creds = derive_creds(self._secret, address, nonce)
        return self._by_key.get(creds.api_key)

    def delete(self, api_key: str) -> None:
        self._by_key.pop(api_key, None)

    def keys_of(self, address: str) -> list[str]:
        return [k for k, c in self._by_key.items() if c.address.lower() == address.lower()]

    def get(self, api_key: str) -> ApiCreds | None:
        return self._by_key.get(api_key)

    def check_l2(
        self, headers: Mapping[str, str], method: str, path: str, body: str, now: float
    ) -> ApiCreds:
        """The creds of a valid L2 request (HMAC over ts + method + path + body)."""
        creds = self._by_key.get(headers.get("POLY_API_KEY", ""))
        timestamp = headers.get("POLY_TIMESTAMP", "")
        signature = headers.get("POLY_SIGNATURE", "")
        if (
            creds is None
            or not hmac.compare_digest(headers.get("POLY_PASSPHRASE", ""), creds.passphrase)
            or headers.get("POLY_ADDRESS", "").lower() != creds.address.lower()
            or not timestamp
            or not self._fresh(timestamp, now)
        ):
            raise AuthError(401, L2_INVALID)
        expected = hmac_signature(creds.secret, timestamp, method, path, body)
        if not hmac.compare_digest(expected, signature):
            raise AuthError(401, L2_INVALID)
        return creds

    def check_ws(self, auth: Mapping[str, Any]) -> ApiCreds | None:
        """User-channel subscription auth: key, secret and passphrase must all match."""
        creds = self._by_key.get(str(auth.get("apiKey", "")))
        if creds is None:
            return None
        ok = hmac.compare_digest(str(auth.get("secret", "")), creds.secret) and hmac.compare_digest(
            str(auth.get("passphrase", "")), creds.passphrase
        )
        return creds if ok else None
