"""`flask candles import`: every row validated, bad lines reported, nothing written unless --partial."""
import pytest

pytestmark = pytest.mark.integration

GOOD = """time,open,high,low,close,volume
2024-01-01T00:00:00Z,100,101,99,100.5,10
2024-01-01T01:00:00Z,100.5,102,100,101,12
2024-01-01T02:00:00Z,101,101.5,100.2,100.8,8
"""
BAD = """time,open,high,low,close,volume
2024-01-01T00:00:00Z,100,101,99,100.5,10
2024-01-01T01:00:00Z,100.5,99,100,101,12
2024-01-01T02:00:00Z,101,101.5,100.2,abc,8
"""


def _count(server):
    from app.extensions import db
    from app.market import store

    with server.app_context():
        conn = db.session.connection()
        sid = store.find_series(conn, "csv", "BTC/USDT", "1h")
        return 0 if sid is None else store.count_candles(conn, sid)


def test_import_good_file(server, tmp_path):
    f = tmp_path / "good.csv"
    f.write_text(GOOD)
    result = server.test_cli_runner().invoke(args=["candles", "import", str(f), "--exchange", "csv",
                                                   "--symbol", "btc/usdt", "--timeframe", "1h"])
    assert result.exit_code == 0, result.output
    assert "3 candles stored for csv BTC/USDT 1h" in result.output
    assert _count(server) == 3
    again = server.test_cli_runner().invoke(args=["candles", "import", str(f), "--exchange", "csv",
                                                  "--symbol", "BTC/USDT", "--timeframe", "1h"])
    assert again.exit_code == 0 and _count(server) == 3  # idempotent


def test_bad_file_reports_line_numbers_and_writes_nothing(server, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text(BAD)
    result = server.test_cli_runner().invoke(args=["candles", "import", str(f), "--exchange", "csv",
                                                   "--symbol", "BTC/USDT", "--timeframe", "1h"])
    assert result.exit_code != 0
    assert "nothing written" in result.output
    assert "line 3" in result.output and "line 4" in result.output
    assert "Traceback" not in result.output
    assert _count(server) == 0


def test_unknown_timeframe_and_bad_symbol_are_refused(server, tmp_path):
    f = tmp_path / "good.csv"
    f.write_text(GOOD)
    for extra, message in ((["--symbol", "BTC/USDT", "--timeframe", "2h"], "unknown timeframe '2h'"),
                           (["--symbol", "BTCUSDT", "--timeframe", "1h"], "invalid symbol 'BTCUSDT'")):
        result = server.test_cli_runner().invoke(args=["candles", "import", str(f), "--exchange", "csv", *extra])
        assert result.exit_code != 0 and message in result.output
    assert _count(server) == 0


def test_partial_import_keeps_good_rows_and_lists_the_bad(server, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text(BAD)
    result = server.test_cli_runner().invoke(args=["candles", "import", str(f), "--exchange", "csv",
                                                   "--symbol", "BTC/USDT", "--timeframe", "1h", "--partial"])
    assert result.exit_code == 0, result.output
    assert "1 candles stored" in result.output and "2 rows rejected" in result.output
    assert "rejected line 3" in result.output and "rejected line 4" in result.output
    assert _count(server) == 1
