"""A real Redis (127.0.0.1:6379, db 14) flushed before and after each test."""
from __future__ import annotations

import pytest
import redis

TEST_DB = 14


@pytest.fixture
def redis_client():
    client = redis.Redis(host="127.0.0.1", port=6379, db=TEST_DB, socket_timeout=5)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"Redis is not reachable at 127.0.0.1:6379 ({exc}); start redis-server")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()
