"""A real Redis client on this run's claimed database, emptied before each test (see ``redis_url``)."""
from __future__ import annotations

import pytest
import redis


@pytest.fixture
def redis_client(redis_url):
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    yield client
    client.close()
