"""docs/api-example.py against a live HTTP server on loopback: candles into pandas page by page, a batch of
four backtests submitted, run (in-process jobs) and read back as a table, a trades CSV downloaded."""
from __future__ import annotations

import importlib.util
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import ROOT, dispose, make_settings, migrate_app

pytestmark = pytest.mark.integration


@pytest.fixture
def live(tmp_path):
    from app.auth.tokens import create_token
    from app.auth.users import create_user
    from app.extensions import db
    from app.market.seed import seed_demo
    from app.server import create_server

    server = create_server(make_settings(tmp_path, demo_days=5))
    migrate_app(server)
    with server.app_context():
        seed_demo(db.session.connection(), server.config["CW_SETTINGS"])
        db.session.commit()
        user = create_user("analyst@example.com", "correct-horse-battery")
        _row, token = create_token(db.session, user, "notebook", ["read", "trade"], 1)
    server.extensions["cw_jobs"].start()
    http = make_server("127.0.0.1", 0, server, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}", token
    http.shutdown()
    dispose(server)


def _example():
    spec = importlib.util.spec_from_file_location("api_example", ROOT / "docs" / "api-example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_session_against_a_running_server(live, capsys):
    base_url, token = live
    example = _example()
    out = example.main(base_url, token)
    bars, results = out["bars"], out["results"]
    assert 100 < len(bars) <= 2000 and bars.index.is_monotonic_increasing and bars.index.is_unique
    assert str(bars.index.tz) == "UTC" and list(bars.columns) == ["open", "high", "low", "close", "volume"]
    assert len(results) == 4 and set(results["status"]) == {"finished"}
    assert set(zip(results["fast"], results["slow"])) == {(5, 20), (5, 40), (10, 20), (10, 40)}
    assert "total_return" in capsys.readouterr().out
    session = example.client(base_url, token)
    run = example.get(session, f"/api/v1/backtests/{results.index[0]}").json()
    trades = example.trades(session, run)
    assert len(trades) == run["metrics"]["n_trades"]


def test_example_reports_field_errors(live):
    base_url, token = live
    example = _example()
    session = example.client(base_url, token)
    with pytest.raises(RuntimeError, match="json.symbols"):
        example.run_batch(session, {"symbols": ["NOPE/USDT"], "timeframe": "1h", "start": "2020-01-01",
                                    "end": "2030-01-01", "strategy": "ma_cross"})
