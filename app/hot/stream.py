"""Push messages for the WebSocket stream: what the job layer publishes to Redis pub/sub after each stage.

Redis channels (pub/sub, nothing stored, so no TTL):

====================================================  ============================================
``{prefix}:stream:market_data``                       a new closed bar (or bars) of one series
``{prefix}:stream:signals``                           a new signal snapshot of one symbol (fused score)
``{prefix}:stream:predictions``                       new stored p(up) predictions of one symbol
``{prefix}:stream:alerts:{user_id}``                  an alert event stored for that user
``{prefix}:stream:portfolio:{user_id}``               a paper fill or order change of that user
====================================================  ============================================

Each message is one JSON document ``{"channel", "user_id", "data", "at"}`` (``user_id`` is ``None`` on
the public channels). The stream service (``app.stream``) pattern-subscribes to
``{prefix}:stream:*`` and hands each message only to the clients subscribed to its channel, and a
per-user message only to that user's connections.

Publishing never fails a job: a Redis error is logged (never with the message body) and dropped —
the stream is a push of what is already stored, and a client that missed a message reads the REST API.
In embedded mode (no Redis) :class:`NullPublisher` makes every call a no-op and no stream process runs.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from app.jsonsafe import json_safe

log = logging.getLogger(__name__)

PUBLIC_CHANNELS = ("market_data", "signals", "predictions")
USER_CHANNELS = ("alerts", "portfolio")
CHANNELS = PUBLIC_CHANNELS + USER_CHANNELS
MAX_BARS = 50  # bars per market_data message (a backfill is read through the REST API, not pushed)


def redis_channel(prefix: str, channel: str, user_id: int | None = None) -> str:
    """The Redis pub/sub channel of a stream channel (per user for ``alerts`` and ``portfolio``)."""
    if channel in PUBLIC_CHANNELS:
        if user_id is not None:
            raise ValueError(f"{channel} is a public channel; it takes no user_id")
        return f"{prefix}:stream:{channel}"
    if channel in USER_CHANNELS:
        if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id < 1:
            raise ValueError(f"{channel} messages belong to one user: user_id must be a positive whole number")
        return f"{prefix}:stream:{channel}:{user_id}"
    raise ValueError(f"unknown stream channel {channel!r}; use one of {', '.join(CHANNELS)}")


def pattern(prefix: str) -> str:
    """What a stream process pattern-subscribes to."""
    return f"{prefix}:stream:*"


def envelope(channel: str, data: dict, user_id: int | None = None, now: datetime | None = None) -> str:
    return json.dumps({"channel": channel, "user_id": user_id, "data": json_safe(data),
                       "at": (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat()},
                      separators=(",", ":"))


def bars_payload(exchange: str, symbol: str, timeframe: str, bars) -> dict:
    """A ``market_data`` document from a candle frame (index: UTC bar open times): the last MAX_BARS bars."""
    tail = bars.iloc[-MAX_BARS:]
    return {"exchange": exchange, "symbol": symbol, "timeframe": timeframe,
            "bars": [{"time": t.isoformat(), "open": float(r.open), "high": float(r.high), "low": float(r.low),
                      "close": float(r.close), "volume": float(r.volume)}
                     for t, r in zip(tail.index, tail.itertuples(index=False))]}


def signal_payload(snapshot: dict) -> dict:
    """A ``signals`` document: the fused score of a snapshot and each timeframe's score (no raw indicators)."""
    fused = snapshot.get("fused") or {}
    per_tf = {tf: {k: v.get(k) for k in ("score", "label", "confidence", "bar_time") if k in v}
              for tf, v in (snapshot.get("timeframes") or {}).items() if isinstance(v, dict)}
    return {"exchange": snapshot.get("exchange"), "symbol": snapshot.get("symbol"),
            "bar_time": snapshot.get("bar_time"), "score": fused.get("score"), "label": fused.get("label"),
            "confidence": fused.get("confidence"), "timeframes": per_tf}


class Publisher:
    """Publishes stream messages on a Redis connection."""

    def __init__(self, redis, prefix: str = "cw"):
        self.redis, self.prefix = redis, prefix

    def publish(self, channel: str, data: dict, user_id: int | None = None) -> int:
        """Send one message; returns how many stream processes received it (0 on a Redis error)."""
        key = redis_channel(self.prefix, channel, user_id)
        try:
            return int(self.redis.publish(key, envelope(channel, data, user_id)))
        except Exception as exc:  # the stream is best effort; the stored rows are the truth
            log.warning("stream publish to %s failed: %s", key, type(exc).__name__)
            return 0

    # one helper per stage of the pipeline -------------------------------------------------------

    def bars(self, exchange: str, symbol: str, timeframe: str, bars) -> int:
        if bars is None or not len(bars):
            return 0
        return self.publish("market_data", bars_payload(exchange, symbol, timeframe, bars))

    def signal(self, snapshot: dict) -> int:
        return self.publish("signals", signal_payload(snapshot))

    def predictions(self, exchange: str, symbol: str, rows: list[dict]) -> int:
        if not rows:
            return 0
        return self.publish("predictions", {"exchange": exchange, "symbol": symbol, "predictions": rows})

    def alert_events(self, exchange: str, created: list[dict]) -> int:
        """One ``alerts`` message per stored event, to its owner only."""
        sent = 0
        for event in created:
            sent += self.publish("alerts", {"event_id": event["event_id"], "rule_id": event["rule_id"],
                                            "exchange": exchange, "symbol": event["symbol"],
                                            **{k: event[k] for k in ("timeframe", "bar_time", "value", "message")
                                               if k in event}},
                                 user_id=int(event["user_id"]))
        return sent

    def portfolio(self, user_id: int, data: dict) -> int:
        return self.publish("portfolio", data, user_id=int(user_id))


class NullPublisher(Publisher):
    """Embedded mode: nothing to publish to and no stream process to read it."""

    def __init__(self, prefix: str = "cw"):
        super().__init__(None, prefix)

    def publish(self, channel: str, data: dict, user_id: int | None = None) -> int:
        redis_channel(self.prefix, channel, user_id)  # the same checks as in production
        return 0
