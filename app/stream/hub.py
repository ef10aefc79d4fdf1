"""The in-process fan-out: every open connection of this stream process and the Redis listener feeding them.

A :class:`Connection` has a bounded send queue (``STREAM_QUEUE_MAX`` frames). :meth:`Hub.dispatch` only
ever puts into queues without waiting (``put_nowait``), so one client that stops reading cannot slow the
others: when its queue is full it is marked slow and its handler closes it with
:data:`~app.stream.protocol.CLOSE_SLOW_CONSUMER`. Each message from Redis is parsed once and its event
frame is built once, whatever the number of receivers.

The process keeps no state but its open connections (subscriptions live with the connection), so
several stream processes run side by side behind nginx, each pattern-subscribed to the same Redis channels.
"""
from __future__ import annotations

import asyncio
import json
import logging

from app.hot.stream import pattern
from app.stream import protocol

log = logging.getLogger(__name__)


class Connection:
    def __init__(self, user_id: int, scopes: frozenset[str], queue_max: int):
        self.user_id, self.scopes = user_id, scopes
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_max)
        self.channels: frozenset[str] = frozenset()
        self.symbols: frozenset[str] | None = None
        self.done = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason = ""

    def offer(self, text: str) -> bool:
        """Queue one frame without waiting; a full queue means a slow client, which is cut off."""
        if self.done.is_set():
            return False
        try:
            self.queue.put_nowait(text)
            return True
        except asyncio.QueueFull:
            self.finish(protocol.CLOSE_SLOW_CONSUMER, "too slow: the send queue is full")
            return False

    def finish(self, code: int | None, reason: str = "") -> None:
        if not self.done.is_set():
            self.close_code, self.close_reason = code, reason
            self.done.set()


class Hub:
    def __init__(self):
        self.connections: set[Connection] = set()
        self.by_user: dict[int, set[Connection]] = {}  # a user's own messages only visit that user's connections
        self.delivered = 0
        self.dropped_slow = 0

    def add(self, conn: Connection, max_per_user: int | None = None) -> bool:
        """Register a connection; False (not added) when its user already has ``max_per_user`` here."""
        mine = self.by_user.setdefault(conn.user_id, set())
        if max_per_user is not None and len(mine) >= max_per_user:
            return False
        mine.add(conn)
        self.connections.add(conn)
        return True

    def remove(self, conn: Connection) -> None:
        self.connections.discard(conn)
        mine = self.by_user.get(conn.user_id)
        if mine is not None:
            mine.discard(conn)
            if not mine:
                del self.by_user[conn.user_id]

    def dispatch(self, raw: bytes | str) -> int:
        """Hand one published message to every connection that wants it; returns how many got it."""
        try:
            message = json.loads(raw)
        except ValueError:
            log.warning("stream: a published message is not JSON; dropped")
            return 0
        if not isinstance(message, dict):
            return 0
        text, sent = None, 0
        owner = message.get("user_id")
        receivers = self.connections if owner is None else self.by_user.get(owner, ())
        for conn in list(receivers):
            if conn.done.is_set():
                continue
            if protocol.wants(message, conn.channels, conn.symbols, conn.user_id):
                text = text or protocol.event_frame(message)
                if conn.offer(text):
                    sent += 1
                elif conn.close_code == protocol.CLOSE_SLOW_CONSUMER:
                    self.dropped_slow += 1
        self.delivered += sent
        return sent

    def shutdown(self) -> None:
        for conn in list(self.connections):
            conn.finish(protocol.CLOSE_GOING_AWAY, "server shutting down")

    def stats(self) -> dict:
        return {"connections": len(self.connections), "delivered": self.delivered, "dropped_slow": self.dropped_slow}

    async def listen(self, redis, prefix: str, ready: asyncio.Event | None = None) -> None:
        """Pattern-subscribe to this prefix's stream channels and dispatch until cancelled; reconnects
        to Redis with a growing pause (1 s up to 30 s) when the connection drops."""
        delay = 1.0
        while True:
            pubsub = redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(pattern(prefix))
                if ready is not None:
                    ready.set()
                delay = 1.0
                while True:
                    msg = await pubsub.get_message(timeout=1.0)
                    if msg is not None and msg.get("type") == "pmessage":
                        self.dispatch(msg["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("stream: Redis subscription lost (%s); retrying in %.0f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            finally:
                try:
                    await pubsub.aclose()
                except Exception:
                    pass
