"""app/ops/outages.py: fail-fast engine options, and a database or Redis error answered as a clear 503."""
from flask import Flask
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from app.ops.outages import DB_MESSAGE, REDIS_MESSAGE, engine_options, init_app


def test_postgresql_gets_connect_and_pool_timeouts_and_every_engine_pre_pings():
    pg = engine_options("postgresql+psycopg2://u:secret@db:5432/cw")
    assert pg == {"pool_pre_ping": True, "pool_timeout": 5, "connect_args": {"connect_timeout": 3}}
    assert engine_options("sqlite:///var/cw.db") == {"pool_pre_ping": True}


def _server():
    from types import SimpleNamespace

    server = Flask("t")
    server.config["CW_SETTINGS"] = SimpleNamespace(embedded=True)
    from app.extensions import db

    server.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(server)
    init_app(server)

    @server.get("/db")
    def _db():
        raise OperationalError("SELECT 1", {}, Exception("connection to server at 10.0.0.5 (password=hunter2) failed"))

    @server.get("/redis")
    def _redis():
        raise RedisConnectionError("Error 111 connecting to redis:6379")

    @server.get("/api/v1/x")
    def _api():
        raise OperationalError("SELECT 1", {}, Exception("down"))

    return server.test_client()


def test_a_database_error_is_a_503_with_the_message_and_no_connection_details():
    resp = _server().get("/db")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"
    assert resp.get_json() == {"status": "unavailable", "service": "database", "message": DB_MESSAGE}
    assert b"hunter2" not in resp.data and b"10.0.0.5" not in resp.data


def test_a_redis_error_is_a_503_and_the_api_answers_problem_json():
    client = _server()
    resp = client.get("/redis")
    assert resp.status_code == 503 and resp.get_json()["message"] == REDIS_MESSAGE
    api = client.get("/api/v1/x")
    assert api.status_code == 503 and api.mimetype == "application/problem+json"
    assert api.get_json()["detail"] == DB_MESSAGE
