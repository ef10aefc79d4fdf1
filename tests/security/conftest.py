"""Fixtures of the security suite: the session's one Dash app, its callbacks and routes, and one
signed-in client per role (built once: every test here sends one request per case, no browser)."""
from __future__ import annotations

import inspect
import uuid
from types import SimpleNamespace

import pytest

from tests.conftest import login
from tests.security.callback_requests import specs as parse_specs

GUARDS = {"require_admin": "admin", "require_writer": "writer"}


def guard_of(func) -> str | None:
    """Which role guard a callback's own code calls (``require_admin`` / ``require_writer``), if any."""
    names = set(inspect.unwrap(func).__code__.co_names)
    found = [role for name, role in GUARDS.items() if name in names]
    return found[0] if len(found) == 1 else ("ambiguous" if found else None)


def qualname(func) -> str:
    func = inspect.unwrap(func)
    return f"{func.__module__}.{func.__qualname__}"


@pytest.fixture(scope="session")
def web(dash_app):
    dash_app.server.test_client().get("/login")  # Dash's first-request setup fills its callback map
    return dash_app


@pytest.fixture(scope="session")
def callbacks(web):
    """Every server-side callback the app serves: ``Spec`` plus its function, guard and name."""
    deps = signed_in_client(web, "admin").get("/_dash-dependencies").get_json()
    out = []
    for spec, raw in zip(parse_specs(deps), deps):
        entry = web.callback_map.get(spec.output, {})
        if raw.get("clientside_function") or "callback" not in entry:
            continue  # runs in the browser; the server has nothing to call (the envelope check refuses it)
        func = entry["callback"]
        out.append(SimpleNamespace(spec=spec, name=qualname(func), guard=guard_of(func)))
    assert len(out) >= 20, [c.name for c in out]
    return out


def signed_in_client(web, role: str):
    from app.auth.users import create_user

    email = f"sec-{role}-{uuid.uuid4().hex[:8]}@example.com"
    with web.server.app_context():
        create_user(email, "correct-horse-battery", role=role)
    client = web.server.test_client()
    assert login(client, email).status_code == 302
    client.email = email
    return client


@pytest.fixture(scope="session")
def as_role(web):
    """``as_role["viewer"|"trader"|"admin"]``: a signed-in client per role; ``as_role[None]``: anonymous."""
    clients = {role: signed_in_client(web, role) for role in ("viewer", "trader", "admin")}
    clients[None] = web.server.test_client()
    return clients


def by_name(callbacks) -> dict:
    return {c.name: c for c in callbacks}
