"""docs/stream_client.py against real stream processes: events arrive; when the server shuts down
gracefully the client reconnects (backoff) to the next process and subscribes again by itself."""
from __future__ import annotations

import asyncio
import importlib.util
import threading
import time

import pytest

from tests.conftest import ROOT
from tests.integration.stream.conftest import start_stream


def _client_module():
    spec = importlib.util.spec_from_file_location("stream_client", ROOT / "docs" / "stream_client.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wait(predicate, timeout: float, publish=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if publish:
            publish()
        time.sleep(0.1)
    return predicate()


def test_the_client_receives_reconnects_after_a_restart_and_resubscribes(stream_db, stream_redis_url, make_token,
                                                                        publisher):
    module = _client_module()
    token, _, _ = make_token()
    first = start_stream(stream_db, stream_redis_url)
    client = module.StreamClient(f"ws://127.0.0.1:{first.port}/stream/v1", token, ["signals"], ["BTC/USDT"],
                                 min_delay=0.1, max_delay=0.5)
    events, loop = [], {}

    def run():
        async def consume():
            loop["loop"] = asyncio.get_running_loop()
            async for event in client.events():
                events.append(event["data"])

        asyncio.run(consume())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    second = None
    try:
        def publish(n):
            return lambda: publisher.publish("signals", {"symbol": "BTC/USDT", "n": n})

        assert _wait(lambda: any(e.get("n") == 1 for e in events), 10, publish(1)), events
        assert first.stop() in (0, -15)  # SIGTERM: a graceful shutdown (uvicorn re-raises the signal after it)
        second = start_stream(stream_db, stream_redis_url, port=first.port)
        assert _wait(lambda: any(e.get("n") == 2 for e in events), 15, publish(2)), (events, client.close_codes)
        assert client.connects >= 2  # subscribed again on the new process without being asked
        assert client.close_codes and client.close_codes[0] in (1001, 1012), client.close_codes  # going away
        assert all(e["symbol"] == "BTC/USDT" for e in events)
    finally:
        loop["loop"].call_soon_threadsafe(client.stop)
        thread.join(10)
        if second is not None:
            second.stop()
        first.stop()
    assert not thread.is_alive()


def test_a_refused_token_is_not_retried(stream, make_token):
    module = _client_module()
    client = module.StreamClient(stream.url, "cw_revoked-or-never-issued", ["alerts"], min_delay=0.05)

    async def consume():
        async for _ in client.events():
            pass

    with pytest.raises(module.StreamAuthError):
        asyncio.run(asyncio.wait_for(consume(), 10))
    assert client.close_codes == [4401]
