"""``python -m app.stream``: serve the stream with uvicorn on ``STREAM_BIND`` (default 127.0.0.1:8060).

SIGTERM/SIGINT shut it down gracefully: uvicorn stops accepting, the app's lifespan ends every
connection with close code 1001 (going away) and a client reconnects to another stream process.
"""
from __future__ import annotations

import sys

from app.settings import Settings

WS_PING_S = 20.0   # WebSocket protocol pings (uvicorn); a peer that does not answer within 20 s is dropped
MAX_FRAME = 16 * 1024  # bytes a client frame may have (subscribe messages are small)


def main(argv=None) -> int:
    import uvicorn

    from app.ops.logs import configure_logging

    settings = Settings.from_env()
    if settings.embedded:
        print("stream: REDIS_URL is not set; in embedded mode nothing is published, so no stream runs",
              file=sys.stderr)
        return 2
    configure_logging(settings.json_logs, settings.log_level)
    from app.stream.app import create_stream_app

    host, _, port = settings.stream_bind.rpartition(":")
    uvicorn.run(create_stream_app(settings), host=host.strip("[]") or "0.0.0.0", port=int(port),
                ws="websockets-sansio", ws_ping_interval=WS_PING_S, ws_ping_timeout=WS_PING_S, ws_max_size=MAX_FRAME,
                limit_concurrency=settings.stream_max_connections, timeout_graceful_shutdown=5,
                proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips, access_log=False,
                log_config=None, lifespan="on")
    return 0


if __name__ == "__main__":
    sys.exit(main())
