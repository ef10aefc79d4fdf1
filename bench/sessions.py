"""Cost of the server-side session check on every request, against the old user lookup, on PostgreSQL.

Run from the repo root: ``.venv/bin/python bench/sessions.py``. It creates a throwaway database
(``cw_bench_<random>``) through the admin URL in ``BENCH_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``), fills ``user_sessions`` with 100,000 rows
(1,000 users), and drops the database at the end.

Timed alternately, round by round, each call on a fresh SQLAlchemy session (so nothing comes from
the identity map):

* ``load_session_user(token)``: what the user loader does now (one SELECT joining the session row
  and its user by primary key; last-seen already fresh, so no write);
* reference: ``db.session.get(User, id)``, what the loader did before (the signed cookie held the
  user id and nothing could be revoked);
* for context, a whole signed-in request (``GET /_reload-hash`` through the test client).
"""
from __future__ import annotations

import os
import re
import secrets
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

N_USERS = 1_000
N_SESSIONS = 100_000
ROUNDS = 15
CALLS = 200


def pg_url(url: str, database: str | None = None):
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg2")
    return u.set(database=database) if database else u


def main() -> None:
    admin_url = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"cw_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        run(pg_url(admin_url, name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def run(database_url: str) -> None:
    from flask_migrate import upgrade

    from app import create_app
    from app.auth.sessions import load_session_user, token_digest
    from app.extensions import db
    from app.models import User, UserSession
    from app.models.user import utcnow
    from app.settings import Settings

    settings = Settings(env="testing", secret_key="bench-secret-key-0123456789", database_url=database_url,
                        market_source="demo", create_demo_users=False, login_limit_ip="100000 per minute",
                        login_limit_account="100000 per minute")
    app = create_app(settings)
    server = app.server
    with server.app_context():
        upgrade()
        now = utcnow()
        db.session.execute(insert(User), [{"email": f"u{i}@example.com", "password_hash": "x", "role": "trader",
                                           "active": True, "created_at": now} for i in range(N_USERS)])
        ids = list(db.session.scalars(db.select(User.id)))
        tokens = [secrets.token_urlsafe(32) for _ in range(N_SESSIONS)]
        db.session.execute(insert(UserSession), [
            {"id": token_digest(t), "user_id": ids[i % len(ids)], "created_at": now, "last_seen_at": now,
             "user_agent": "bench", "ip": "127.0.0.1"} for i, t in enumerate(tokens)])
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    idle = timedelta(hours=12)
    picks = [tokens[(i * 7919) % N_SESSIONS] for i in range(CALLS)]
    user_ids = [ids[(i * 7919) % len(ids)] for i in range(CALLS)]

    def sessions_check() -> float:
        t0 = time.perf_counter()
        for tok in picks:
            assert load_session_user(tok, idle_timeout=idle) is not None
            db.session.remove()
        return (time.perf_counter() - t0) / CALLS

    def user_by_id() -> float:
        t0 = time.perf_counter()
        for uid in user_ids:
            assert db.session.get(User, uid) is not None
            db.session.remove()
        return (time.perf_counter() - t0) / CALLS

    with server.test_request_context():
        sessions_check(), user_by_id()  # warm the pool and statement caches
        ours, ref = [], []
        for _ in range(ROUNDS):
            ours.append(sessions_check())
            ref.append(user_by_id())

    from app.auth.users import create_user

    with server.app_context():
        create_user("bench@example.com", "a-bench-passphrase-long")
    client = server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": "bench@example.com", "password": "a-bench-passphrase-long",
                                       "csrf_token": token}).status_code == 302
    client.get("/_reload-hash")
    req = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        for _ in range(50):
            assert client.get("/_reload-hash").status_code == 200
        req.append((time.perf_counter() - t0) / 50)

    with server.app_context():
        db.session.remove()
        db.engine.dispose()
    o, r, q = (statistics.median(x) * 1000 for x in (ours, ref, req))
    print(f"session check (join by primary key, {N_SESSIONS:,} rows): median {o:.3f} ms per request")
    print(f"reference, user by primary key (the old loader):        median {r:.3f} ms per request")
    print(f"a whole signed-in request (GET /_reload-hash):            median {q:.3f} ms")
    print(f"RESULT session_check_ms {o:.3f} ms")
    print(f"RESULT user_lookup_reference_ms {r:.3f} ms")
    print(f"RESULT session_check_extra_ms {o - r:.3f} ms")
    print(f"RESULT signed_in_request_ms {q:.3f} ms")


if __name__ == "__main__":
    main()
