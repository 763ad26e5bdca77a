"""`py_clob_client_v2`, with our own HTTP transport and typed errors, for the live executor.

Why not the SDK as it is:
- its requests go through one module-level httpx client with httpx's default timeouts and no
  way to set them per call; the at-most-once logic needs a known POST /order timeout and to
  tell "never sent" (connect failed) from "maybe sent" (timed out waiting for the answer);
- its errors carry no Retry-After, which a 429 must be honoured by;
- its `post_order` may poll trades for up to 30 s for settlement hashes we do not need
  (fills come from /data/trades), blocking the engine's worker thread.
So `_SdkClient` routes the SDK's own `_get/_post/_delete` through `_Transport`, and orders are
posted with the SDK's payload (`order_to_json_v2`) and L2 headers. Signing, rounding, HMAC and
every endpoint's shape stay the SDK's.

All of it is synchronous: call it from worker threads, never on the event loop.

Secrets: the private key lives only inside the SDK's signer; the API creds are wrapped so their
repr masks the secret and passphrase; error messages are built from status codes and the
exchange's `error` text, never from request headers.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from py_clob_client_v2 import ClobClient, OrderArgs, PartialCreateOrderOptions
from py_clob_client_v2.clob_types import (
    ApiCreds,
    AssetType,
    BalanceAllowanceParams,
    MarketOrderArgsV2,
    OpenOrderParams,
    TradeParams,
)
from py_clob_client_v2.config import get_contract_config
from py_clob_client_v2.endpoints import POST_ORDER
from py_clob_client_v2.exceptions import PolyException
from py_clob_client_v2.order_utils.exchange_order_builder_v2 import ExchangeOrderBuilderV2
from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2

from engine.execution.clob_orders import (
    MarketRules,
    OrderPlan,
    OrderRefused,
    check_signed,
    sdk_float,
)
from engine.execution.clob_settings import ClobSettings
from engine.execution.clob_wallet import WalletKeys
from engine.execution.held_positions import MAX_OFFSET, PAGE, position_params
from engine.input_bounds import OutOfBounds, bounded_float, decode_json, shown
from engine.models import Side

log = logging.getLogger("polyb0t.live")

JSON = dict[str, Any]
ErrorKind = Literal["http", "unsent", "maybe_sent"]
ORDER_VERSION = 2  # CLOB V2 exchange (live since 2026-04-28); the order hash depends on it


class ClobError(Exception):
    """A CLOB call failed. `kind`: "http" (the exchange answered `status`), "unsent" (no
    connection: the request never left), "maybe_sent" (sent, no answer: it may have acted)."""

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind = "http",
        status: int | None = None,
        retry_after: float | None = None,
        error_text: str = "",
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.error_text = error_text  # the exchange's own message, for matching

    def explained(self, what: str) -> ClobError:
        """The same failure, its message prefixed with what was being done."""
        return ClobError(
            f"{what}: {self}",
            kind=self.kind,
            status=self.status,
            retry_after=self.retry_after,
            error_text=self.error_text,
        )

    @property
    def transient(self) -> bool:
        """Worth another try: no answer, throttled, or a server-side failure."""
        return self.kind != "http" or self.status == 429 or (self.status or 0) >= 500


def _json(response: httpx.Response) -> Any:
    """The answer's JSON, its nesting bounded (`input_bounds`); ValueError if unreadable."""
    return decode_json(response.content, json.loads)


def _error_text(response: httpx.Response) -> str:
    try:
        body = _json(response)
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])[:300]
    return str(body)[:300]


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    try:
        return max(bounded_float(raw, math.inf), 0.0) if raw is not None else None
    except OutOfBounds:  # an HTTP date, or no number at all: backoff instead
        return None


class _Transport:
    """One httpx client (HTTP/1.1, keep-alive) with explicit timeouts and typed errors."""

    def __init__(self, timeout_s: float, http: httpx.Client | None = None) -> None:
        self._http = http or httpx.Client(timeout=timeout_s)
        self._timeout = timeout_s

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        params: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
    ) -> Any:
        hdrs = {
            **(headers or {}),
            "User-Agent": "polyb0t",
            "Accept": "*/*",
            "Content-Type": "application/json",
        }
        kw: dict[str, Any] = {"headers": hdrs, "params": params}
        if isinstance(data, str):
            kw["content"] = data.encode("utf-8")
        elif data is not None:
            kw["json"] = data
        path = httpx.URL(url).path
        try:
            response = self._http.request(method, url, timeout=timeout_s or self._timeout, **kw)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ClobError(f"{method} {path}: cannot connect ({exc})", kind="unsent") from None
        except httpx.TimeoutException:
            raise ClobError(f"{method} {path}: no answer in time", kind="maybe_sent") from None
        except httpx.RequestError as exc:
            raise ClobError(
                f"{method} {path}: connection lost ({type(exc).__name__})", kind="maybe_sent"
            ) from None
        if response.status_code != 200:
            text = _error_text(response)
            raise ClobError(
                f"{method} {path}: HTTP {response.status_code} {text}",
                status=response.status_code,
                retry_after=_retry_after(response),
                error_text=text,
            )
        try:
            return _json(response)
        except ValueError:  # OutOfBounds (nested too deep) included
            if response.text and response.text[:1] in "[{":
                # A garbled 200: whatever was asked may well have been done (an order placed).
                raise ClobError(
                    f"{method} {path}: unreadable JSON answer", kind="maybe_sent", status=200
                ) from None
            return response.text

    def close(self) -> None:
        self._http.close()


class _SdkClient(ClobClient):  # type: ignore[misc]  # the SDK ships no type information
    """The SDK client, its HTTP calls routed through `_Transport`."""

    def __init__(self, transport: _Transport, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._transport = transport

    def _get(self, endpoint: str, headers: Any = None, params: Any = None) -> Any:
        return self._transport.send("GET", endpoint, headers, None, params)

    def _post(
        self, endpoint: str, headers: Any = None, data: Any = None, params: Any = None
    ) -> Any:
        return self._transport.send("POST", endpoint, headers, data, params)

    def _delete(
        self, endpoint: str, headers: Any = None, data: Any = None, params: Any = None
    ) -> Any:
        return self._transport.send("DELETE", endpoint, headers, data, params)

    def _get_timestamp(self) -> int | None:
        if not self.use_server_time:
            return None
        return server_seconds(self.get_server_time())


def server_seconds(body: Any) -> int:
    """`GET /time` answers a bare integer (seconds); accept `{"time": ...}` too."""
    if isinstance(body, dict):
        body = body.get("time") or body.get("timestamp")
    try:
        return int(bounded_float(body))
    except OutOfBounds:
        raise ClobError(f"GET /time: not a time: {shown(body, 50)}", status=200) from None


class _SealedCreds(ApiCreds):  # type: ignore[misc]  # the SDK's ApiCreds dataclass
    """The SDK's credentials with a repr that shows no secret (the dataclass repr would)."""

    def __repr__(self) -> str:
        return f"ApiCreds(api_key={self.api_key!r}, api_secret=********, api_passphrase=********)"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class SignedOrder:
    """A signed order and its id: the EIP-712 hash, which is the exchange's order id."""

    order_id: str
    plan: OrderPlan
    order: Any  # the SDK's SignedOrderV2
    maker_amount: int
    taker_amount: int


class ClobSession:
    """An authenticated connection to the CLOB for one wallet."""

    def __init__(
        self, keys: WalletKeys, settings: ClobSettings, http: httpx.Client | None = None
    ) -> None:
        self.settings = settings
        self.wallet = keys.wallet
        self._keys = keys
        self._transport = _Transport(settings.request_timeout_s, http)
        self._client = _SdkClient(
            self._transport,
            host=settings.host,
            chain_id=settings.chain_id,
            key=keys.private_key.get_secret_value(),
            signature_type=keys.wallet.signature_type,
            funder=keys.wallet.funder,
            use_server_time=settings.use_server_time,
        )
        self._exchanges = get_contract_config(settings.chain_id)
        self.api_key: str | None = None

    def __repr__(self) -> str:
        return (
            f"ClobSession(host={self.settings.host!r}, signer={self.wallet.signer}, "
            f"funder={self.wallet.funder}, signature_type={self.wallet.signature_type}, "
            f"connected={self.connected})"
        )

    @property
    def connected(self) -> bool:
        return self.api_key is not None

    @property
    def host(self) -> str:
        return self.settings.host

    # --- credentials ------------------------------------------------------------------------

    def connect(self) -> None:
        """Set L2 credentials: the configured ones, else derived (or created) from the key."""
        if self.connected:
            return
        given = self._keys.api
        if given is not None:
            creds = _SealedCreds(
                api_key=given.api_key,
                api_secret=given.secret.get_secret_value(),
                api_passphrase=given.passphrase.get_secret_value(),
            )
        else:
            creds = self._derive_or_create()
        self._client.set_api_creds(creds)
        self.api_key = str(creds.api_key)
        log.info("CLOB credentials ready for %s (key %s...)", self.wallet.signer, self.api_key[:8])

    def _derive_or_create(self) -> Any:
        """Derive first (no side effect); create only when the exchange has none for the key."""
        try:
            raw = self._client.derive_api_key()
        except ClobError as exc:
            if exc.kind != "http" or exc.status not in (400, 404):
                raise exc.explained("cannot derive API credentials") from None
            try:
                raw = self._client.create_api_key()
            except ClobError as exc2:
                raise exc2.explained("cannot create API credentials") from None
        return _SealedCreds(
            api_key=raw.api_key, api_secret=raw.api_secret, api_passphrase=raw.api_passphrase
        )

    # --- orders -----------------------------------------------------------------------------

    def market_rules(self, condition_id: str) -> MarketRules:
        """Tick, neg-risk, minimum and fees, fresh (the SDK's tick cache is refreshed too)."""
        try:
            body = self._client.get_clob_market_info(condition_id)
        except PolyException as exc:
            raise ClobError(f"market {condition_id}: {exc.msg}", status=404) from None
        try:
            return MarketRules.from_wire(body)
        except ValueError as exc:
            raise ClobError(f"market {condition_id}: {exc}", status=200) from None

    def sign(self, plan: OrderPlan) -> SignedOrder:
        """Build and sign `plan` locally (no network): the order and its hash."""
        options = PartialCreateOrderOptions(
            tick_size=plan.tick_text, neg_risk=plan.neg_risk, version=ORDER_VERSION
        )
        side = "BUY" if plan.side is Side.BUY else "SELL"
        try:
            if plan.amount is not None:
                args = MarketOrderArgsV2(
                    token_id=plan.token_id,
                    amount=sdk_float(plan.amount, 2),
                    side=side,
                    price=sdk_float(plan.price, plan.price_places),
                    order_type=plan.order_type,
                )
                order = self._client.create_market_order(args, options)
            else:
                limit = OrderArgs(
                    token_id=plan.token_id,
                    price=float(plan.price),
                    size=sdk_float(plan.size, 2),
                    side=side,
                    expiration=plan.expiration,
                )
                order = self._client.create_order(limit, options)
        except PolyException as exc:
            raise OrderRefused(f"the SDK refused the order: {exc.msg}") from None
        maker, taker = int(order.makerAmount), int(order.takerAmount)
        check_signed(plan, maker, taker)
        return SignedOrder(self._order_hash(order, plan.neg_risk), plan, order, maker, taker)

    def _order_hash(self, order: Any, neg_risk: bool) -> str:
        cfg = self._exchanges
        exchange = cfg.neg_risk_exchange_v2 if neg_risk else cfg.exchange_v2
        builder = ExchangeOrderBuilderV2(
            exchange, self.settings.chain_id, self._client.signer, domain_version="2"
        )
        return str(builder.build_order_hash(builder.build_order_typed_data(order)))

    def post(self, signed: SignedOrder) -> JSON:
        """POST /order once, with the post timeout. Raises ClobError; the caller decides."""
        self._require_l2()
        owner = self.api_key or ""
        payload = order_to_json_v2(signed.order, owner, signed.plan.order_type, False, False)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        headers = self._client._l2_headers("POST", POST_ORDER, body=payload, serialized_body=body)
        answer = self._transport.send(
            "POST",
            f"{self.host}{POST_ORDER}",
            headers,
            body,
            timeout_s=self.settings.post_timeout_s,
        )
        if not isinstance(answer, dict):
            raise ClobError(
                f"POST /order: unexpected answer {str(answer)[:100]!r}",
                kind="maybe_sent",
                status=200,
            )
        return answer

    def get_order(self, order_id: str) -> JSON | None:
        """The order if it is still open.

        Polymarket answers only for active orders (docs/polymarket_api.md, gotcha G16)."""
        self._require_l2()
        row = self._client.get_order(order_id)
        return row if isinstance(row, dict) and row.get("id") else None

    def trades(
        self,
        *,
        token_id: str | None = None,
        market: str | None = None,
        trade_id: str | None = None,
        after: int | None = None,
    ) -> list[JSON]:
        """Our trades (every page), optionally for one token / market / trade."""
        self._require_l2()
        params = TradeParams(id=trade_id, market=market, asset_id=token_id, after=after)
        rows = self._client.get_trades(params)
        return [r for r in rows if isinstance(r, dict)]

    def open_orders(self, *, market: str | None = None, token_id: str | None = None) -> list[JSON]:
        self._require_l2()
        rows = self._client.get_open_orders(OpenOrderParams(market=market, asset_id=token_id))
        return [r for r in rows if isinstance(r, dict)]

    def cancel(self, order_ids: list[str]) -> JSON:
        """`{"canceled": [...], "not_canceled": {id: reason}}`."""
        self._require_l2()
        answer = self._client.cancel_orders(order_ids)
        return answer if isinstance(answer, dict) else {}

    def cancel_all(self) -> JSON:
        self._require_l2()
        answer = self._client.cancel_all()
        return answer if isinstance(answer, dict) else {}

    def heartbeat(self, heartbeat_id: str) -> str:
        """One heartbeat; the id to send with the next one."""
        self._require_l2()
        answer = self._client.post_heartbeat(heartbeat_id)
        return str(answer.get("heartbeat_id") or "") if isinstance(answer, dict) else ""

    # --- account ----------------------------------------------------------------------------

    def balance_allowance(self, token_id: str | None = None) -> JSON:
        """Collateral (no token) or one token's balance and allowances, 1e-6 units as text."""
        self._require_l2()
        kind = AssetType.CONDITIONAL if token_id else AssetType.COLLATERAL
        answer = self._client.get_balance_allowance(
            BalanceAllowanceParams(asset_type=kind, token_id=token_id)
        )
        return answer if isinstance(answer, dict) else {}

    def positions(self) -> list[Any]:
        """Every outcome-token position the funder holds (Data API, public: no headers),
        all pages. Rows as the API sends them; `held_positions.parse_positions` reads them."""
        rows: list[Any] = []
        url = f"{self.settings.data_url}/positions"
        for offset in range(0, MAX_OFFSET + 1, PAGE):
            page = self._transport.send(
                "GET", url, params=position_params(self.wallet.funder, offset)
            )
            if not isinstance(page, list):
                raise ClobError(f"GET /positions: not a list: {str(page)[:100]!r}", status=200)
            rows.extend(page)
            if len(page) < PAGE:
                break
        return rows

    def closed_only(self) -> bool:
        self._require_l2()
        answer = self._client.get_closed_only_mode()
        return bool(answer.get("closed_only")) if isinstance(answer, dict) else False

    def server_time(self) -> int:
        return server_seconds(self._client.get_server_time())

    def exchange_addresses(self) -> dict[str, str]:
        """Contracts an EOA must have approved (collateral and outcome tokens)."""
        cfg = self._exchanges
        return {
            "exchange": cfg.exchange_v2,
            "neg-risk exchange": cfg.neg_risk_exchange_v2,
            "neg-risk adapter": cfg.neg_risk_adapter,
        }

    def _require_l2(self) -> None:
        if not self.connected:
            raise ClobError("not connected: call connect() first", kind="unsent")

    def close(self) -> None:
        self._transport.close()


def backoff_delay(attempt: int, settings: ClobSettings, retry_after: float | None) -> float:
    """Seconds before attempt `attempt + 1`: the server's Retry-After (capped), else
    exponential backoff. No jitter: one process talks to one account, and tests stay exact."""
    if retry_after is not None:
        return min(retry_after, settings.max_retry_after_s)
    return min(settings.backoff_base_s * 2.0**attempt, settings.backoff_max_s)
