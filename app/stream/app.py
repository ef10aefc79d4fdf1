"""The stream's ASGI application (Starlette): ``/stream/v1`` (WebSocket) and ``/stream/healthz``.

One handler per connection runs three tasks until the first ends: the sender drains the connection's
bounded queue to the socket, the receiver parses subscribe/unsubscribe/ping messages, and the ticker
queues a heartbeat every ``STREAM_HEARTBEAT_S`` and checks the token again every ``STREAM_RECHECK_S``
(a token revoked or expired while connected is cut off with 4401). WebSocket protocol pings are
uvicorn's own (``ws_ping_interval``), which also drop dead peers.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from anyio import to_thread
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.hot.stream import CHANNELS
from app.settings import Settings
from app.stream import protocol
from app.stream.auth import TokenLookup, bearer
from app.stream.hub import Connection, Hub

log = logging.getLogger(__name__)
CLOSE_TIMEOUT_S = 2.0


def create_stream_app(settings: Settings, lookup=None, redis=None) -> Starlette:
    """The app for ``settings`` (production mode: it needs Redis). ``lookup`` and ``redis`` for tests."""
    if settings.embedded:
        raise ValueError("the stream needs REDIS_URL: in embedded mode nothing is published and no stream runs")
    hub = Hub()
    lookup = lookup or TokenLookup(settings.database_url)
    redis = redis or Redis.from_url(settings.redis_url, socket_connect_timeout=2, health_check_interval=30)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        ready = asyncio.Event()
        listener = asyncio.create_task(hub.listen(redis, settings.redis_prefix, ready))
        try:
            await asyncio.wait_for(ready.wait(), timeout=10)
        except asyncio.TimeoutError:
            log.warning("stream: Redis subscription not ready after 10 s; serving and retrying")
        try:
            yield
        finally:
            hub.shutdown()  # every handler closes its socket with 1001 (going away)
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener
            await redis.aclose()
            if hasattr(lookup, "dispose"):
                lookup.dispose()

    async def healthz(request):
        return JSONResponse({"ok": True, **hub.stats()})

    async def stream(ws: WebSocket):
        token = bearer(ws.headers)
        await ws.accept()
        try:
            identity = await to_thread.run_sync(lookup, token) if token else None
        except Exception as exc:  # the database is away: the client retries later (its backoff)
            log.warning("stream: token lookup failed (%s)", type(exc).__name__)
            await ws.close(protocol.CLOSE_TRY_AGAIN, "cannot check the token now; try again later")
            return
        if identity is None:
            await ws.close(protocol.CLOSE_UNAUTHORIZED, "missing, invalid, expired or revoked token")
            return
        if "read" not in identity.scopes:
            await ws.close(protocol.CLOSE_FORBIDDEN, "the token needs the read scope")
            return
        conn = Connection(identity.user_id, identity.scopes, settings.stream_queue_max)
        if not hub.add(conn, settings.stream_max_per_user):
            await ws.close(protocol.CLOSE_TOO_MANY, f"at most {settings.stream_max_per_user} connections per user")
            return
        conn.offer(protocol.frame("welcome", user_id=identity.user_id, channels=list(CHANNELS),
                                  heartbeat_s=settings.stream_heartbeat_s))
        tasks = [asyncio.create_task(coro) for coro in
                 (_sender(ws, conn), _receiver(ws, conn), _ticker(conn, token, lookup, settings))]
        try:
            await conn.done.wait()
        finally:
            hub.remove(conn)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if conn.close_code is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(conn.close_code, conn.close_reason), CLOSE_TIMEOUT_S)

    return Starlette(routes=[Route("/stream/healthz", healthz), WebSocketRoute("/stream/v1", stream)],
                     lifespan=lifespan)


async def _sender(ws: WebSocket, conn: Connection) -> None:
    try:
        while True:
            await ws.send_text(await conn.queue.get())
    except (WebSocketDisconnect, RuntimeError, OSError):
        conn.finish(None)


async def _receiver(ws: WebSocket, conn: Connection) -> None:
    try:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                conn.finish(None)
                return
            try:
                if msg.get("text") is None:
                    raise protocol.ProtocolError("message", "send JSON text frames, not binary")
                request = protocol.parse_client_message(msg["text"])
                reply = _apply(conn, request)
            except protocol.ProtocolError as exc:
                reply = protocol.error_frame(exc)
            conn.offer(reply)
    except (WebSocketDisconnect, RuntimeError, OSError):
        conn.finish(None)


def _apply(conn: Connection, request: protocol.Request) -> str:
    if request.type == "ping":
        return protocol.frame("pong")
    refused = protocol.refused_channels(request.channels, conn.scopes)
    if refused:
        raise protocol.ProtocolError("channels", f"this token may not read {refused[0]!r}")
    if request.type == "subscribe":
        conn.channels = conn.channels | frozenset(request.channels)
        conn.symbols = None if request.symbols is None else frozenset(request.symbols)
    else:
        conn.channels = conn.channels - frozenset(request.channels)
    return protocol.frame("subscribed", channels=[c for c in CHANNELS if c in conn.channels],
                          symbols=None if conn.symbols is None else sorted(conn.symbols))


async def _ticker(conn: Connection, token: str, lookup, settings: Settings) -> None:
    checked = time.monotonic()
    while True:
        await asyncio.sleep(settings.stream_heartbeat_s)
        conn.offer(protocol.heartbeat_frame())
        if time.monotonic() - checked >= settings.stream_recheck_s:
            checked = time.monotonic()
            try:
                identity = await to_thread.run_sync(lookup, token)
            except Exception as exc:  # the database is away: keep the connection, check again later
                log.warning("stream: token re-check failed (%s)", type(exc).__name__)
                continue
            if identity is None or "read" not in identity.scopes:
                conn.finish(protocol.CLOSE_UNAUTHORIZED, "the token was revoked or expired")
