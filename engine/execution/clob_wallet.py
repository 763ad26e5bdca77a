"""Which wallet signs and which address pays: checked before anything is signed.

A wrong signature type / funder pair is the most common cause of `invalid signature` and of
"balance 0" on Polymarket (docs/polymarket_api.md, gotchas G9 and G10), and the exchange only
says so after an order was sent. The rules follow `py_clob_client_v2` (`OrderBuilder`,
`SignatureTypeV2`):

- 0 EOA: the key's own address makes and funds the order; a funder, if given, must be it.
- 1 POLY_PROXY (email/Magic) and 2 POLY_GNOSIS_SAFE (browser wallet): the key signs for a
  proxy contract that holds the funds, so the funder is required and is not the key's address.
- 3 POLY_1271 (deposit wallet / smart contract, V2 only): the SDK makes the funder the order's
  signer and signs EIP-1271 style with the key; the funder is required, and not the key's.

Secrets: `WalletKeys` keeps the private key and API secret/passphrase as `SecretStr` and its
repr masks them; nothing here formats a secret into a message, and a malformed key is
reported without echoing it.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

from eth_account import Account
from eth_utils.address import to_checksum_address
from pydantic import SecretStr

from engine.config import LiveSettings

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
SIGNATURE_TYPES = {
    0: "EOA",
    1: "POLY_PROXY",
    2: "POLY_GNOSIS_SAFE",
    3: "POLY_1271",
}


class WalletError(ValueError):
    """The wallet settings cannot work; the message says which setting to change."""


@dataclass(frozen=True, slots=True)
class Wallet:
    """The validated pair: `signer` is the key's address, `funder` the address holding funds."""

    signature_type: int
    signer: str
    funder: str

    @property
    def type_name(self) -> str:
        return SIGNATURE_TYPES[self.signature_type]


def address_of(private_key: SecretStr) -> str:
    """The checksum address of a key; a bad key is a WalletError that never shows the key."""
    address: str | None = None
    # eth_account messages can quote the input: keep none of it.
    with contextlib.suppress(Exception):
        address = str(Account.from_key(private_key.get_secret_value()).address)
    if address is None:  # raised outside the handler, so no exception context holds the key
        raise WalletError(
            "live.private_key is not a valid secp256k1 private key (expected 32 bytes of hex, "
            "with or without 0x)"
        )
    return address


def check_wallet(signature_type: int, signer: str, funder: str | None) -> Wallet:
    """Validate a signature type against the funder; the Wallet the SDK should be built with."""
    if signature_type not in SIGNATURE_TYPES:
        raise WalletError(
            f"live.signature_type {signature_type} is unknown; use 0 (EOA), 1 (POLY_PROXY), "
            "2 (POLY_GNOSIS_SAFE) or 3 (POLY_1271)"
        )
    name = SIGNATURE_TYPES[signature_type]
    if funder is not None and not _ADDRESS.match(funder):
        raise WalletError(f"live.funder {funder!r} is not an address (0x and 40 hex digits)")
    fund = to_checksum_address(funder) if funder is not None else None
    if signature_type == 0:
        if fund is not None and fund != signer:
            raise WalletError(
                f"signature_type 0 (EOA) signs and pays from the key's own address {signer}, "
                f"but live.funder is {fund}: remove live.funder, or set signature_type 1 "
                "(email/Magic proxy), 2 (browser-wallet Safe) or 3 (deposit wallet) to trade "
                "from that address"
            )
        return Wallet(0, signer, signer)
    if fund is None:
        raise WalletError(
            f"signature_type {signature_type} ({name}) trades from a wallet contract: set "
            "live.funder to its address (shown as your Polymarket deposit address)"
        )
    if fund == signer:
        raise WalletError(
            f"signature_type {signature_type} ({name}) needs the wallet contract's address as "
            f"live.funder, not the key's own address {signer}; with no contract use "
            "signature_type 0 (EOA)"
        )
    return Wallet(signature_type, signer, fund)


@dataclass(frozen=True, slots=True)
class ApiKeyTriple:
    """L2 credentials; the key is an identifier, the secret and passphrase are not shown."""

    api_key: str
    secret: SecretStr = field(repr=False)
    passphrase: SecretStr = field(repr=False)


@dataclass(frozen=True, slots=True)
class WalletKeys:
    """Everything secret the executor holds, and the validated wallet."""

    private_key: SecretStr = field(repr=False)
    wallet: Wallet
    api: ApiKeyTriple | None = None  # None: created or derived from the key (L1) on connect

    @classmethod
    def from_settings(cls, live: LiveSettings) -> WalletKeys:
        if live.private_key is None or not live.private_key.get_secret_value():
            raise WalletError(
                "live orders need credentials: live.private_key is missing (set "
                "POLYBOT_LIVE__PRIVATE_KEY in the environment or a 0600 config file; API "
                "creds are derived from it when not given)"
            )
        signer = address_of(live.private_key)
        wallet = check_wallet(live.signature_type, signer, live.funder)
        given = {
            "api_key": live.api_key,
            "api_secret": live.api_secret,
            "api_passphrase": live.api_passphrase,
        }
        present = {k for k, v in given.items() if v is not None and v.get_secret_value()}
        if present and present != set(given):
            missing = ", ".join(f"live.{k}" for k in sorted(set(given) - present))
            raise WalletError(
                f"API credentials are incomplete: missing {missing}; give all three, or none "
                "to create or derive them from the private key"
            )
        api = None
        if live.api_key is not None and live.api_secret is not None and present:
            assert live.api_passphrase is not None
            api = ApiKeyTriple(
                live.api_key.get_secret_value(), live.api_secret, live.api_passphrase
            )
        return cls(live.private_key, wallet, api)
