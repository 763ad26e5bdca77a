"""The control socket's wire format, shared by the daemon's server and the console's client.

Transport: a WebSocket (RFC 6455) on loopback, JSON text frames, one message per frame.

Authentication happens in the opening handshake, before any frame:
`Authorization: Bearer <token>` with the token from `<data_dir>/control.token`. A missing
header is answered HTTP 401, a wrong token HTTP 403, each with a one-line plain-text reason;
no WebSocket is opened, so an unauthenticated peer never sees a byte of state.

Server → console (`type` first):
- `{"type": "welcome", "protocol": 1, "instance": "<id>", "push_interval": 0.2}`: sent
  once, first. `instance` changes whenever the daemon restarts (a console reconnecting to
  the same instance must not take the log lines it already has as new ones).
- `{"type": "delta", "delta": ViewDelta}`: pushed a few times a second, only when something
  changed; holds what changed since the last delta sent on this connection. The first one
  on a connection is full (`"full": true`). A console that cannot keep up gets fewer,
  larger deltas; one that stops reading for a while is disconnected.
- `{"type": "result", "id": N, "ok": bool, "message": str, "data": {...}}`: the
  `CommandResult` of a command request.
- `{"type": "detail", "id": N, "detail": MarketDetail | null}`: null for an unknown market.
- `{"type": "error", "id": N | null, "message": str}`: a request the server could not
  take (malformed JSON, unknown type, missing field, too many in flight). The connection
  stays open.

Console → server:
- `{"type": "command", "id": N, "name": "approve", "args": {"intent_id": "..."}}`: names
  and arguments as `engine.feed.dispatch.run_command` takes them; `args` may be omitted.
- `{"type": "detail", "id": N, "market_id": "..."}`.

`id` is a whole number (at most 2**53 either way) or a string (at most 200 characters)
chosen by the console and echoed in the answer. Messages nest at most
`input_bounds.MAX_DEPTH` deep. Value encoding
(NaN floats included) is `engine.feed.codec`'s. Before a command's result, the server sends
the delta that the command caused, so a console sees its own approval when it reads the
result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from engine.feed.codec import CodecError, decode, encode, json_text, parse_json
from engine.feed.view import CommandResult, MarketDetail, ViewDelta
from engine.input_bounds import MAX_MAGNITUDE, OutOfBounds, bounded_float, bounded_int, shown

PROTOCOL_VERSION = 1
MAX_REQUEST_ID = 2**53  # ids are counters; JSON readers elsewhere hold integers this large
MAX_ID_CHARS = 200
MAX_ROWS = 1_000_000  # market rows in a view: far more than a daemon tracks

RequestId = int | str


class ProtocolError(ValueError):
    """A message that does not follow the protocol; `request_id` when one could be read."""

    def __init__(self, message: str, request_id: RequestId | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


class _NoDebug(logging.LoggerAdapter[logging.Logger]):
    """websockets logs request headers (the token!) and frames at DEBUG, and every handshake
    at INFO; only its warnings and errors are ours to show, whatever the log level."""

    def isEnabledFor(self, level: int) -> bool:
        return level >= logging.WARNING and self.logger.isEnabledFor(level)


def quiet_socket_logger(name: str) -> logging.LoggerAdapter[logging.Logger]:
    """The logger to hand websockets, on both ends of the socket."""
    return _NoDebug(logging.getLogger(name), {})


# --- console → server -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandRequest:
    id: RequestId
    name: str
    args: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DetailRequest:
    id: RequestId
    market_id: str


Request = CommandRequest | DetailRequest


def command_request(request_id: RequestId, name: str, args: dict[str, Any]) -> str:
    return json_text({"type": "command", "id": request_id, "name": name, "args": args})


def detail_request(request_id: RequestId, market_id: str) -> str:
    return json_text({"type": "detail", "id": request_id, "market_id": market_id})


def parse_request(raw: str | bytes) -> Request:
    """One console message; raises `ProtocolError` saying what is wrong with it."""
    msg = _object(raw)
    request_id = _request_id(msg.get("id"))
    if request_id is None:
        raise ProtocolError('every request needs an "id" (a number or a string)')
    kind = msg.get("type")
    if kind == "command":
        name = msg.get("name")
        if not isinstance(name, str) or not name:
            raise ProtocolError('a command needs a "name"', request_id)
        args = msg.get("args", {})
        if not isinstance(args, dict):
            raise ProtocolError('a command\'s "args" must be an object', request_id)
        return CommandRequest(request_id, name, args)
    if kind == "detail":
        market_id = msg.get("market_id")
        if not isinstance(market_id, str) or not market_id:
            raise ProtocolError('a detail request needs a "market_id"', request_id)
        return DetailRequest(request_id, market_id)
    raise ProtocolError(f'unknown request type {kind!r}; known: "command", "detail"', request_id)


# --- server → console -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Welcome:
    protocol: int
    instance: str
    push_interval: float


@dataclass(frozen=True, slots=True)
class DeltaMessage:
    delta: ViewDelta


@dataclass(frozen=True, slots=True)
class ResultMessage:
    id: RequestId
    result: CommandResult


@dataclass(frozen=True, slots=True)
class DetailMessage:
    id: RequestId
    detail: MarketDetail | None


@dataclass(frozen=True, slots=True)
class ErrorMessage:
    id: RequestId | None
    message: str


ServerMessage = Welcome | DeltaMessage | ResultMessage | DetailMessage | ErrorMessage


def welcome(instance: str, push_interval: float) -> str:
    return json_text(
        {
            "type": "welcome",
            "protocol": PROTOCOL_VERSION,
            "instance": instance,
            "push_interval": push_interval,
        }
    )


def delta_message(delta: ViewDelta) -> str:
    return json_text({"type": "delta", "delta": encode(delta)})


def result_message(request_id: RequestId, result: CommandResult) -> str:
    return json_text({"type": "result", "id": request_id, **encode(result)})


def detail_message(request_id: RequestId, detail: MarketDetail | None) -> str:
    body = None if detail is None else encode(detail)
    return json_text({"type": "detail", "id": request_id, "detail": body})


def error_message(request_id: RequestId | None, message: str) -> str:
    return json_text({"type": "error", "id": request_id, "message": message})


def parse_server_message(raw: str | bytes) -> ServerMessage:
    """One server message; raises `ProtocolError` (a daemon of another version, or a bug)."""
    msg = _object(raw)
    kind = msg.get("type")
    try:
        if kind == "delta":
            return DeltaMessage(_applicable(decode(ViewDelta, msg.get("delta"))))
        if kind == "result":
            return ResultMessage(_id(msg), decode(CommandResult, msg))
        if kind == "detail":
            body = msg.get("detail")
            return DetailMessage(_id(msg), None if body is None else decode(MarketDetail, body))
        if kind == "error":
            return ErrorMessage(_request_id(msg.get("id")), str(msg.get("message", "")))
        if kind == "welcome":
            protocol = msg.get("protocol")
            if type(protocol) is not int or not 0 <= protocol <= MAX_REQUEST_ID:
                raise ProtocolError(f"a welcome without a protocol version: {shown(protocol)}")
            return Welcome(
                protocol=protocol,
                instance=str(msg.get("instance", "")),
                push_interval=_interval(msg.get("push_interval")),
            )
    except CodecError as exc:
        raise ProtocolError(f"bad {kind} message: {exc}") from None
    raise ProtocolError(f"unknown message type {kind!r}")


def _applicable(delta: ViewDelta) -> ViewDelta:
    """A delta a `ViewStore` can fold in: at most `MAX_ROWS` rows, each changed row at its
    place among them (the store indexes its row list with `row`, and grows it to `n_rows`)."""
    if not 0 <= delta.n_rows <= MAX_ROWS:
        raise ProtocolError(
            f"bad delta message: n_rows {shown(delta.n_rows)} outside 0..{MAX_ROWS}"
        )
    for r in delta.rows:
        if not 0 <= r.row < delta.n_rows:
            raise ProtocolError(
                f"bad delta message: row {shown(r.row)} outside the {delta.n_rows} rows"
            )
    return delta


def _request_id(value: object) -> RequestId | None:
    """A usable id: a string of at most `MAX_ID_CHARS`, or a whole number within
    ±`MAX_REQUEST_ID` (a bool is neither); None otherwise."""
    if isinstance(value, str):
        return value if len(value) <= MAX_ID_CHARS else None
    try:
        return bounded_int(value, MAX_REQUEST_ID)
    except OutOfBounds:
        return None


def _interval(value: object) -> float:
    """The daemon's push interval; 0.0 (unknown) unless a sane number of seconds."""
    if isinstance(value, str):
        return 0.0  # a JSON number, not text
    try:
        out = bounded_float(value, MAX_MAGNITUDE)
    except OutOfBounds:
        return 0.0
    return out if out >= 0 else 0.0


def _id(msg: dict[str, Any]) -> RequestId:
    request_id = _request_id(msg.get("id"))
    if request_id is None:
        raise ProtocolError('an answer without a usable "id"')
    return request_id


def _object(raw: str | bytes) -> dict[str, Any]:
    if isinstance(raw, bytes):
        raise ProtocolError("send JSON in text frames, not binary ones")
    try:
        msg = parse_json(raw)
    except CodecError as exc:
        raise ProtocolError(str(exc)) from None
    if not isinstance(msg, dict):
        raise ProtocolError('a message must be a JSON object with a "type"')
    return msg
