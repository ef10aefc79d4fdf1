"""A Candlewise stream client: subscribe to channels, print the events, reconnect with backoff.

    pip install websockets
    CANDLEWISE_TOKEN=cw_... python docs/stream_client.py --url wss://candlewise.example/stream/v1 \\
        --channel alerts --channel market_data --symbol BTC/USDT

Or from your own program::

    client = StreamClient(url, token, ["alerts", "signals"])
    async for event in client.events():
        print(event["channel"], event["data"])

What it does: sends the bearer token in the handshake (never in the URL), subscribes, yields each
``event`` frame, and when the connection drops (the server restarts, a deploy, the network) it waits
``min_delay`` seconds, then twice as long each failed try up to ``max_delay`` (with jitter, so many
clients do not return at the same instant), reconnects and subscribes again to the same channels. A
refused token (close code 4401) or missing scope (4403) is not retried: :class:`StreamAuthError` is raised.
Events published while the client was away are not replayed; read them from the REST API (``/api/v1``).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

PERMANENT = {4401: "the token is missing, invalid, expired or revoked", 4403: "the token lacks the read scope"}


class StreamAuthError(RuntimeError):
    """The server refused the token; reconnecting would not help."""


class StreamClient:
    def __init__(self, url: str, token: str, channels, symbols=None, *, min_delay: float = 0.5,
                 max_delay: float = 30.0, open_timeout: float = 10.0):
        self.url, self.token = url, token
        self.channels, self.symbols = list(channels), (list(symbols) if symbols else None)
        self.min_delay, self.max_delay, self.open_timeout = min_delay, max_delay, open_timeout
        self.connects = 0          # successful subscriptions so far
        self.close_codes: list = []  # why each connection ended (None: no close frame)
        self._stop = asyncio.Event()

    def backoff(self, failures: int) -> float:
        """The pause before reconnect try ``failures`` (1, 2, ...): exponential, capped, with jitter."""
        return min(self.max_delay, self.min_delay * 2 ** (failures - 1)) * random.uniform(0.5, 1.0)

    def stop(self) -> None:
        self._stop.set()

    def _subscribe_message(self) -> str:
        msg = {"type": "subscribe", "channels": self.channels}
        if self.symbols:
            msg["symbols"] = self.symbols
        return json.dumps(msg)

    async def events(self):
        """Every event frame, across reconnects, until :meth:`stop`."""
        failures = 0
        while not self._stop.is_set():
            try:
                async with connect(self.url, additional_headers={"Authorization": f"Bearer {self.token}"},
                                   open_timeout=self.open_timeout) as ws:
                    await ws.send(self._subscribe_message())
                    async for raw in self._frames(ws):
                        doc = json.loads(raw)
                        if doc.get("type") == "subscribed":
                            self.connects += 1
                            failures = 0
                        elif doc.get("type") == "error":
                            raise ValueError(f"the server refused the subscription: {doc.get('field')}: "
                                             f"{doc.get('message')}")
                        elif doc.get("type") == "event":
                            yield doc
                    self.close_codes.append(ws.close_code)
                    if ws.close_code in PERMANENT:
                        raise StreamAuthError(PERMANENT[ws.close_code])
            except (OSError, InvalidHandshake, ConnectionClosed, asyncio.TimeoutError) as exc:
                code = getattr(getattr(exc, "rcvd", None), "code", None)
                self.close_codes.append(code)
                if code in PERMANENT:
                    raise StreamAuthError(PERMANENT[code]) from None
            if self._stop.is_set():
                return
            failures += 1
            try:
                await asyncio.wait_for(self._stop.wait(), self.backoff(failures))
            except asyncio.TimeoutError:
                pass

    async def _frames(self, ws):
        """The connection's frames until it closes or :meth:`stop` is called."""
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            while True:
                recv = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait({recv, stop}, return_when=asyncio.FIRST_COMPLETED)
                if recv not in done:
                    recv.cancel()
                    return
                try:
                    raw = recv.result()
                except ConnectionClosed:
                    return
                yield raw
        finally:
            stop.cancel()


async def _print_events(args) -> None:
    client = StreamClient(args.url, os.environ[args.token_env], args.channel, args.symbol)
    async for event in client.events():
        print(json.dumps(event), flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="ws://127.0.0.1:8060/stream/v1")
    parser.add_argument("--token-env", default="CANDLEWISE_TOKEN", help="environment variable holding the token")
    parser.add_argument("--channel", action="append", required=True,
                        choices=["market_data", "signals", "predictions", "alerts", "portfolio"])
    parser.add_argument("--symbol", action="append", help="only these symbols on the market channels")
    args = parser.parse_args(argv)
    if not os.environ.get(args.token_env):
        parser.error(f"set {args.token_env} to a personal API token (Settings -> API tokens)")
    try:
        asyncio.run(_print_events(args))
    except StreamAuthError as exc:
        print(f"stream: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
