"""The same Alembic revisions upgrade and downgrade on SQLite and on the real PostgreSQL."""
import pytest
import sqlalchemy as sa

from tests.conftest import make_settings

pytestmark = pytest.mark.integration

EXPECTED = {"users", "series", "candles", "signals", "signal_quality", "backtests", "backtest_trades", "predictions",
            "user_sessions", "alert_rules", "alert_events", "alert_deliveries",
            "alert_attempts", "notification_settings",
            "portfolio_transactions", "paper_strategies", "paper_fills", "paper_orders", "audit_events", "api_tokens",
            "watchlist"}


def _roundtrip(database_url: str) -> None:
    from flask_migrate import downgrade, upgrade

    from app.server import create_server

    app = create_server(make_settings(database_url=database_url))
    engine = sa.create_engine(database_url)
    with app.app_context():
        upgrade()
        tables = set(sa.inspect(engine).get_table_names())
        assert EXPECTED <= tables and "alembic_version" in tables
        pk = sa.inspect(engine).get_pk_constraint("candles")
        assert pk["constrained_columns"] == ["series_id", "time"]
        downgrade(revision="base")
        assert not (EXPECTED & set(sa.inspect(engine).get_table_names()))
        upgrade()
        assert EXPECTED <= set(sa.inspect(engine).get_table_names())
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
    engine.dispose()


def test_migrations_roundtrip_on_sqlite(tmp_path):
    _roundtrip(f"sqlite:///{tmp_path / 'm.db'}")


def test_migrations_roundtrip_on_postgresql(fresh_pg_url):
    _roundtrip(fresh_pg_url)


def test_models_match_migrations_on_postgresql(fresh_pg_url):
    """Autogenerate finds nothing to do: the models and the revisions agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import upgrade

    from app.server import create_server
    from app.extensions import db

    app = create_server(make_settings(database_url=fresh_pg_url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.session.remove()
        db.engine.dispose()
    assert diff == []
