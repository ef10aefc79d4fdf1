"""Process, database and Redis figures for the Admin page's system panel (one query each)."""
from __future__ import annotations

import os

import psutil
from sqlalchemy import text


def process() -> dict:
    """This process's CPU share and resident memory (``psutil``)."""
    p = psutil.Process(os.getpid())
    with p.oneshot():
        return {"pid": p.pid, "cpu_percent": p.cpu_percent(interval=None),
                "rss_mb": round(p.memory_info().rss / 2**20, 1), "threads": p.num_threads()}


def database(session) -> dict:
    """Size and open connections of the database (PostgreSQL); SQLite reports its file size."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        row = session.execute(text(
            "SELECT pg_database_size(current_database()), "
            "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database())")).one()
        return {"backend": "postgresql", "size_mb": round(row[0] / 2**20, 1), "connections": int(row[1])}
    path = bind.url.database
    size = os.path.getsize(path) if path and os.path.exists(path) else 0
    return {"backend": bind.dialect.name, "size_mb": round(size / 2**20, 1), "connections": None}


def redis_info(redis) -> dict:
    """Used memory and the keyspace hit rate since Redis started (one INFO call)."""
    info = redis.info()
    hits, misses = info.get("keyspace_hits", 0), info.get("keyspace_misses", 0)
    return {"used_memory_mb": round(info.get("used_memory", 0) / 2**20, 1),
            "hit_rate": None if hits + misses == 0 else hits / (hits + misses),
            "clients": info.get("connected_clients")}
