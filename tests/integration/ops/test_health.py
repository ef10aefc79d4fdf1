"""/healthz and /readyz, including a 503 naming the component that is down."""
import pytest

from tests.conftest import make_settings, migrate_app

pytestmark = pytest.mark.integration


def test_healthz_is_public_and_ok(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}


def test_readyz_ok_with_real_postgres_and_redis(pg_app):
    resp = pg_app.test_client().get("/readyz")
    body = resp.get_json()
    assert resp.status_code == 200, body
    assert body["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_503_when_redis_unreachable(tmp_path):
    from app.server import create_server

    app = create_server(make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0"))
    migrate_app(app)
    resp = app.test_client().get("/readyz")
    body = resp.get_json()
    assert resp.status_code == 503
    assert body["failed"] == ["redis"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("fail:")


def test_readyz_503_when_database_unreachable(tmp_path):
    from app.server import create_server

    app = create_server(make_settings(database_url="postgresql://postgres@127.0.0.1:1/nope"))
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503 and resp.get_json()["failed"] == ["database"]


def test_metrics_exposed(client):
    client.get("/healthz")
    resp = client.get("/metrics")
    assert resp.status_code == 200 and b"flask_http_request" in resp.data


def test_production_refuses_default_secret_key():
    from app.settings import Settings

    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(env="production")
    assert Settings(env="production", secret_key="x" * 32).session_cookie_secure is False  # set by from_env
    assert Settings.from_env({"CANDLEWISE_ENV": "production", "SECRET_KEY": "y" * 32}).session_cookie_secure
