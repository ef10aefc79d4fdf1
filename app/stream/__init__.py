"""The WebSocket stream for API clients: its own small async process (``python -m app.stream``).

Starlette under uvicorn, fed from Redis pub/sub (:mod:`app.hot.stream`, published by the job layer after
each stage). Authenticates with the same personal API tokens and scopes as ``/api/v1``; a user only ever
receives their own ``alerts`` and ``portfolio`` messages. No Dash, no Flask app, no blocking call on the
event loop (the token lookup runs in a thread). Production mode only: in embedded mode (no ``REDIS_URL``)
nothing is published and this process refuses to start.

Modules: :mod:`~app.stream.protocol` (messages, validation, close codes; pure), :mod:`~app.stream.hub`
(connections and their bounded queues, the Redis listener), :mod:`~app.stream.auth` (the bearer token),
:mod:`~app.stream.app` (the ASGI app), ``__main__`` (uvicorn).
"""
