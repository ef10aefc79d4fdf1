"""The stream's wire protocol: what a client may send, what the server answers, and the close codes.

Client -> server (JSON text frames, at most :data:`MAX_FRAME_BYTES`):

    {"type": "subscribe", "channels": ["market_data", "alerts"], "symbols": ["BTC/USDT"]}
    {"type": "unsubscribe", "channels": ["alerts"]}
    {"type": "ping"}

``symbols`` is optional and filters the market channels (``market_data``, ``signals``, ``predictions``);
without it every symbol is sent. Server -> client:

    {"type": "welcome", "user_id": 3, "channels": [...available...], "heartbeat_s": 20}
    {"type": "subscribed", "channels": [...now subscribed...], "symbols": [...] | null}
    {"type": "event", "channel": "alerts", "data": {...}, "at": "2026-...Z"}
    {"type": "heartbeat", "at": "..."}       every heartbeat_s seconds
    {"type": "pong"}
    {"type": "error", "field": "channels", "message": "..."}   the connection stays open

Pure functions: :func:`parse_client_message` raises :class:`ProtocolError` naming the field.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from app.hot.stream import CHANNELS, PUBLIC_CHANNELS
from app.marketdata import validate_symbol

MAX_FRAME_BYTES = 4096
MAX_SYMBOLS = 50
TYPES = ("subscribe", "unsubscribe", "ping")
# every channel needs the token's read scope (trading is never done over the stream)
CHANNEL_SCOPE = {c: "read" for c in CHANNELS}

# Close codes (4000-4999 are the application's own, RFC 6455 section 7.4.2)
CLOSE_UNAUTHORIZED = 4401  # missing, invalid, expired or revoked token (also when revoked while connected)
CLOSE_FORBIDDEN = 4403     # the token lacks the read scope
CLOSE_SLOW_CONSUMER = 4408  # the client did not read fast enough; its send queue filled up
CLOSE_TOO_MANY = 4429      # the user has STREAM_MAX_PER_USER connections open on this process already
CLOSE_GOING_AWAY = 1001    # the server shuts down
CLOSE_TRY_AGAIN = 1013     # the token could not be checked (database unavailable): reconnect later


class ProtocolError(ValueError):
    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Request:
    type: str
    channels: tuple[str, ...] = ()
    symbols: tuple[str, ...] | None = None


def _channels(raw) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(c, str) for c in raw):
        raise ProtocolError("channels", f"channels must be a non-empty list of channel names ({', '.join(CHANNELS)})")
    unknown = [c for c in raw if c not in CHANNELS]
    if unknown:
        raise ProtocolError("channels", f"unknown channel {unknown[0][:40]!r}; use {', '.join(CHANNELS)}")
    return tuple(c for c in CHANNELS if c in raw)


def _symbols(raw) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise ProtocolError("symbols", "symbols must be a non-empty list like [\"BTC/USDT\"], or left out for all")
    if len(raw) > MAX_SYMBOLS:
        raise ProtocolError("symbols", f"at most {MAX_SYMBOLS} symbols per subscription, got {len(raw)}")
    try:
        return tuple(sorted({validate_symbol(s) for s in raw}))
    except ValueError as exc:
        raise ProtocolError("symbols", str(exc)[:200]) from None


def parse_client_message(text) -> Request:
    """A checked request from one text frame; raises ProtocolError (field, message) otherwise."""
    if not isinstance(text, str):
        raise ProtocolError("message", "send JSON text frames, not binary")
    if len(text.encode("utf-8")) > MAX_FRAME_BYTES:
        raise ProtocolError("message", f"a message may be at most {MAX_FRAME_BYTES} bytes")
    try:
        doc = json.loads(text)
    except ValueError:
        raise ProtocolError("message", "the message is not valid JSON") from None
    if not isinstance(doc, dict):
        raise ProtocolError("message", "the message must be a JSON object with a \"type\"")
    kind = doc.get("type")
    if kind not in TYPES:
        raise ProtocolError("type", f"type must be one of {', '.join(TYPES)}, got {str(kind)[:40]!r}")
    extra = set(doc) - {"type", "channels", "symbols"}
    if extra:
        raise ProtocolError(sorted(extra)[0][:40], "unknown field; a message has type, channels and symbols")
    if kind == "ping":
        return Request("ping")
    channels = _channels(doc.get("channels"))
    if kind == "unsubscribe":
        if "symbols" in doc:
            raise ProtocolError("symbols", "unsubscribe takes channels only")
        return Request("unsubscribe", channels)
    return Request("subscribe", channels, _symbols(doc.get("symbols")))


def refused_channels(channels, scopes) -> list[str]:
    """The channels these token scopes may not read."""
    return [c for c in channels if CHANNEL_SCOPE[c] not in scopes]


def wants(message: dict, channels: frozenset[str], symbols: frozenset[str] | None, user_id: int) -> bool:
    """Whether a connection (its subscriptions and user) gets one published message."""
    channel = message.get("channel")
    if channel not in channels:
        return False
    if channel in PUBLIC_CHANNELS:
        return symbols is None or (message.get("data") or {}).get("symbol") in symbols
    return message.get("user_id") == user_id  # alerts and portfolio: the owner only


def frame(kind: str, **fields) -> str:
    return json.dumps({"type": kind, **fields}, separators=(",", ":"))


def error_frame(exc: ProtocolError) -> str:
    return frame("error", field=exc.field, message=exc.message)


def heartbeat_frame(now: datetime | None = None) -> str:
    return frame("heartbeat", at=(now or datetime.now(timezone.utc)).isoformat())


def event_frame(message: dict) -> str:
    return frame("event", channel=message["channel"], data=message.get("data"), at=message.get("at"))
