"""CSV imports: the portfolio transactions CSV (``app.portfolio.transactions.parse_csv`` then
``store.add_transactions``, as the Portfolio page's upload does) and the candle file import
(``app.market.importing.import_file``). Any file is either refused with line numbers and reasons, with
nothing written, or imported as valid rows."""
from __future__ import annotations

import math
from datetime import datetime, timezone

from hypothesis import example, given, strategies as st

from app.extensions import db
from app.market.csv_import import CandleFileError, parse_candle_file
from app.market.importing import import_file
from app.models import Candle, PortfolioTransaction, Series, User
from app.portfolio import store
from app.portfolio.transactions import KINDS, TransactionError, TransactionFileError, parse_csv
from tests.fuzz.conftest import assert_valid, row_counts

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
ASSETS = ["BTC/USDT", "ETH/USDT"]

cell = st.one_of(st.sampled_from(["", " ", "1", "0", "-1", "0.5", "1e309", "nan", "inf", "abc", "2026-01-01",
                                  "2026-01-01T00:00:00Z", "2026-02-30", "1700000000", "9999-12-31", "BTC/USDT",
                                  "BTC", "USDT", '"', "a,b", "\x00", "\u00e9"]),
                 st.sampled_from(KINDS), st.text(max_size=12))


def _line(cells) -> str:
    return ",".join(cells)


@st.composite
def transaction_files(draw):
    header = draw(st.one_of(st.just(["time", "kind", "asset", "quantity", "price", "fee", "note"]),
                            st.permutations(["time", "kind", "asset", "quantity", "price", "fee", "note"]),
                            st.lists(st.sampled_from(["time", "kind", "asset", "quantity", "price", "x", ""]),
                                     max_size=7)))
    rows = draw(st.lists(st.lists(cell, min_size=max(len(header) - 1, 0), max_size=len(header) + 1), max_size=6))
    text = "\n".join([_line(header), *map(_line, rows)])
    return draw(st.one_of(st.just(text), st.just(text.encode()), st.binary(max_size=60)))


@given(transaction_files(), st.booleans())
# dateless transaction times: see test_a_time_without_a_date_is_refused_in_every_import
@example("time,kind,asset,quantity,price,fee,note\nnow,deposit,USDT,100,,,\n", False)
@example("time,kind,asset,quantity,price,fee,note\n12:00,deposit,USDT,100,,,\n", False)
def test_a_transactions_csv_is_refused_with_line_reasons_or_imports_valid_rows(sqlite_server, raw, partial):
    with sqlite_server.app_context():
        user = db.session.query(User).filter_by(email="fuzz-tx@example.com").one_or_none()
        if user is None:
            from app.auth.users import create_user

            user = create_user("fuzz-tx@example.com", "correct-horse-battery", role="trader")
            db.session.commit()
        before = row_counts(db.session, PortfolioTransaction)
        try:
            rows, errors = parse_csv(raw, known_assets=ASSETS, existing=store.transactions(db.session, user.id),
                                     partial=partial, now=NOW)
            store.add_transactions(db.session, user.id, rows)
        except TransactionFileError as exc:
            db.session.rollback()
            assert exc.errors and all(isinstance(n, int) and n >= 0 and msg for n, msg in exc.errors)
            assert row_counts(db.session, PortfolioTransaction) == before
            return
        except TransactionError as exc:
            db.session.rollback()
            assert exc.field and str(exc)
            assert row_counts(db.session, PortfolioTransaction) == before
            return
        db.session.rollback()  # each example starts from the same ledger
        assert partial or not errors
        for t in rows:
            assert t.kind in KINDS and math.isfinite(t.quantity) and t.quantity > 0
            assert t.time.tzinfo is not None and t.time.utcoffset().total_seconds() == 0
            assert t.time <= NOW.replace(year=NOW.year + 1)


candle_cell = st.one_of(st.sampled_from(["", "1", "100", "101", "99", "0", "-1", "nan", "inf", "1e309", "x",
                                         "2024-01-01T00:00:00Z", "2024-01-01T00:30:00Z", "2024-01-01 01:00",
                                         "1704067200", "1704067200000", "1704070800", "99999999999999999999",
                                         "0001-01-01", "9999-12-31", '"', "\x00"]),
                        st.text(max_size=8))


@st.composite
def candle_files(draw):
    header = draw(st.one_of(st.just(["time", "open", "high", "low", "close", "volume"]),
                            st.lists(st.sampled_from(["time", "timestamp", "open", "high", "low", "close",
                                                      "volume", "x", ""]), max_size=7)))
    good_rows = [[f"2024-01-01T{h:02d}:00:00Z", "100", "101", "99", "100.5", "3"] for h in range(draw(st.integers(0, 3)))]
    rows = draw(st.lists(st.lists(candle_cell, min_size=max(len(header) - 1, 0), max_size=len(header) + 1),
                         max_size=5))
    lines = [_line(header), *map(_line, good_rows), *map(_line, rows)]
    return draw(st.one_of(st.just("\n".join(lines).encode()), st.binary(max_size=80)))


@given(candle_files())
# regression: a lone carriage return inside a line (old Mac line ends) escaped as the csv module's _csv.Error
@example(b"a\rb\n")
@example(b"time,open,high,low,close,volume\r2024-01-01T00:00:00Z,100,101,99,100,1\r")
# regression: a field over the csv module's size limit escaped as _csv.Error too
@example(b"time,open,high,low,close,volume\n\"" + b"1" * 200_000 + b"\",1,1,1,1,1\n")
# dateless times ("now", "12:00") and a blank one: see test_a_time_without_a_date_is_refused_in_every_import
@example(b"time,open,high,low,close,volume\nnow,1,1,1,1,1\n")
@example(b"time,open,high,low,close,volume\n12:00,1,1,1,1,1\n")
@example(b"time,open,high,low,close,volume\n,1,1,1,1,1\n")
def test_a_candle_file_is_refused_with_line_reasons_or_parsed_valid(raw):
    try:
        frame = parse_candle_file(raw, timeframe="1h")
    except CandleFileError as exc:
        assert exc.errors and all(isinstance(n, int) and msg for n, msg in exc.errors)
        return
    assert len(frame) > 0
    assert_valid(frame, 3600)


@given(candle_files(), st.booleans())
def test_a_refused_candle_import_writes_nothing(sqlite_server, tmp_path_factory, raw, partial):
    path = tmp_path_factory.mktemp("csv") / "bars.csv"
    path.write_bytes(raw)
    with sqlite_server.app_context():
        before = row_counts(db.session, Candle, Series)
        conn = db.session.connection()
        try:
            report = import_file(conn, path, "csv", "BTC/USDT", "1h", partial=partial)
        except CandleFileError as exc:
            db.session.rollback()
            assert exc.errors
            assert row_counts(db.session, Candle, Series) == before
            return
        assert report.rows > 0
        assert row_counts(db.session, Candle)[0] <= before[0] + report.rows
        db.session.rollback()


def test_a_file_with_old_mac_line_ends_imports_like_any_other():
    frame = parse_candle_file(b"time,open,high,low,close,volume\r2024-01-01T00:00:00Z,100,101,99,100,1\r"
                              b"2024-01-01T01:00:00Z,100,102,98,101,2\r", timeframe="1h")
    assert list(frame["close"]) == [100.0, 101.0]


def test_an_oversized_field_is_refused_naming_its_line():
    raw = b"time,open,high,low,close,volume\n2024-01-01T00:00:00Z,100,101,99,100,1\n\"" + b"1" * 200_000 + b"\",1,1,1,1,1\n"
    try:
        parse_candle_file(raw, timeframe="1h")
    except CandleFileError as exc:
        assert exc.errors[0][0] == 3 and "malformed CSV" in exc.errors[0][1]
    else:
        raise AssertionError("an oversized field was accepted")


def test_a_time_without_a_date_is_refused_in_every_import():
    for when in ("now", "today", "12:00", "yesterday"):
        try:
            parse_csv(f"time,kind,asset,quantity\n{when},deposit,USDT,100\n", known_assets=ASSETS, now=NOW)
        except TransactionFileError as exc:
            assert exc.errors[0][0] == 2 and "time" in exc.errors[0][1] and "date" in exc.errors[0][1]
        else:
            raise AssertionError(f"{when!r} was taken as a transaction time")
        try:
            parse_candle_file(f"time,open,high,low,close,volume\n{when},1,1,1,1,1\n".encode())
        except CandleFileError as exc:
            assert exc.errors == [(2, f"time {when!r} is neither ISO-8601 nor an epoch number")]
        else:
            raise AssertionError(f"{when!r} was taken as a candle time")
