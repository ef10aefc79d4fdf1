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


CHANGED = """time,open,high,low,close,volume
2024-01-01T00:00:00Z,100,101,99,100.5,10
2024-01-01T01:00:00Z,100.5,102,100,101.9,12
2024-01-01T02:00:00Z,101,101.5,100.2,100.8,8
2024-01-01T03:00:00Z,100.8,101,100,100.9,9
"""


def _closes(server, exchange="csv"):
    from app.extensions import db
    from app.market import store

    with server.app_context():
        conn = db.session.connection()
        sid = store.find_series(conn, exchange, "BTC/USDT", "1h")
        return [] if sid is None else store.load_candles(conn, sid)["close"].tolist()


def _import(server, path, *extra, exchange="csv"):
    return server.test_cli_runner().invoke(args=["candles", "import", str(path), "--exchange", exchange,
                                                 "--symbol", "BTC/USDT", "--timeframe", "1h", *extra])


@pytest.mark.parametrize("backend", ["server", "pg_app"])
def test_finding_5_import_over_stored_bars_keeps_them_unless_replace(request, backend, tmp_path):
    server = request.getfixturevalue(backend)
    good, changed = tmp_path / "good.csv", tmp_path / "changed.csv"
    good.write_text(GOOD)
    changed.write_text(CHANGED)
    assert _import(server, good).exit_code == 0
    kept = _import(server, changed)
    assert kept.exit_code == 0, kept.output
    assert "1 candles stored" in kept.output and "1 new, 0 stored bars replaced" in kept.output
    assert "3 rows skipped because their bars are already stored (1 with different prices" in kept.output
    assert _closes(server) == [100.5, 101.0, 100.8, 100.9]  # the stored 01:00 close is untouched
    replaced = _import(server, changed, "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert "0 new, 1 stored bars replaced" in replaced.output and "3 already stored with the same values" in replaced.output
    assert _closes(server) == [100.5, 101.9, 100.8, 100.9]


def test_finding_5_imports_are_labelled_as_imports(server, tmp_path):
    f = tmp_path / "good.csv"
    f.write_text(GOOD)
    result = _import(server, f)
    assert "for csv BTC/USDT 1h (import)" in result.output
    listing = server.test_cli_runner().invoke(args=["candles", "series"])
    assert "\tcsv\timport\tBTC/USDT\t1h\t3" in listing.output


def test_finding_13_unknown_exchange_is_a_clear_error_not_a_traceback(server, tmp_path):
    f = tmp_path / "good.csv"
    f.write_text(GOOD)
    result = _import(server, f, exchange="nosuch")
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "Invalid value for '--exchange'" in result.output and "'nosuch' is not one of" in result.output
    assert "'binance'" in result.output and "'csv'" in result.output
    assert "Traceback" not in result.output and _count(server) == 0


def test_finding_13_all_bad_file_with_partial_reports_the_bad_lines(server, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("time,open,high,low,close,volume\n2024-01-01T00:00:00Z,100,99,99,100.5,10\n"
                 "soon,1,2,0.5,1.5,3\n")
    result = _import(server, f, "--partial")
    assert result.exit_code == 1 and "nothing written" in result.output
    assert "line 2: high 99 is below" in result.output and "line 3: time 'soon'" in result.output
    assert "header but no candles" not in result.output and _count(server) == 0


def test_finding_13_year_9999_is_rejected_with_its_line_number(server, tmp_path):
    f = tmp_path / "far.csv"
    f.write_text(GOOD + "9999-01-01T00:00:00Z,100,101,99,100.5,10\n")
    result = _import(server, f)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "line 5: time '9999-01-01T00:00:00Z' is out of range" in result.output and _count(server) == 0


def test_finding_13_chunked_import_counts_across_chunks_and_is_all_or_nothing(server, tmp_path):
    from app.extensions import db
    from app.market import importing
    from app.market.csv_import import CandleFileError

    f = tmp_path / "many.csv"
    f.write_text("time,open,high,low,close,volume\n"
                 + "".join(f"2024-01-0{1 + h // 24}T{h % 24:02d}:00:00Z,1,2,0.5,1.5,{h}\n" for h in range(50)))
    with server.app_context():
        report = importing.import_file(db.session, f, "csv", "BTC/USDT", "1h", chunk_rows=7)
        db.session.commit()
        assert report.chunks == 8 and report.new == 50 and report.rows == 50
        again = importing.import_file(db.session, f, "csv", "BTC/USDT", "1h", chunk_rows=7)
        assert again.new == 0 and again.unchanged == 50 and again.skipped == 0
        db.session.rollback()
        bad = tmp_path / "bad_late.csv"
        bad.write_text("time,open,high,low,close,volume\n"
                       + "".join(f"2024-02-01T{h:02d}:00:00Z,1,2,0.5,1.5,1\n" for h in range(20))
                       + "2024-02-01T03:00:00Z,1,2,0.5,1.5,1\n")  # a repeat of line 5, in the last chunk
        with pytest.raises(CandleFileError) as err:
            importing.import_file(db.session, bad, "csv", "BTC/USDT", "1h", chunk_rows=7)
        db.session.rollback()
        assert err.value.errors == [(22, "duplicate time 2024-02-01T03:00:00+00:00 (first on line 5)")]
    assert _count(server) == 50  # the earlier chunks of the bad file were rolled back


def test_finding_5_an_imported_file_does_not_hide_the_watched_demo_series(server, tmp_path):
    from app.extensions import db
    from app.market import query, store
    from tests.fakes.candles import make_candles

    with server.app_context():
        conn = db.session.connection()
        for tf in ("1h", "4h"):
            store.bulk_upsert_candles(conn, store.get_or_create_series(conn, "demo", "BTC/USDT", tf),
                                      make_candles(50, freq_s={"1h": 3600, "4h": 14400}[tf]))
        db.session.commit()
    f = tmp_path / "good.csv"
    f.write_text(GOOD)
    assert _import(server, f).exit_code == 0  # written last, under csv
    with server.app_context():
        settings = server.config["CW_SETTINGS"]
        cat = query.catalog(db.session, choice=query.choice_from(settings))
        assert cat.exchange["BTC/USDT"] == "demo" and cat.timeframes["BTC/USDT"] == ["1h", "4h"]
        chosen = query.catalog(db.session, choice=query.choice_from(settings.with_(display_series=(("BTC/USDT", "csv"),))))
        assert chosen.exchange["BTC/USDT"] == "csv" and chosen.label("BTC/USDT") == "import · csv"
