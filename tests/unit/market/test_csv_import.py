"""parse_candle_file: time formats, case-insensitive columns, line-numbered errors, Parquet."""
from __future__ import annotations

import io

import pandas as pd
import pytest

from app.market.csv_import import CandleFileError, parse_candle_file, parse_candle_file_partial
from tests.fakes.candles import make_candles

HEADER = "time,open,high,low,close,volume\n"
ROW = "1,2,0.5,1.5,10"


def parse_error(data: str | bytes, **kw) -> list[tuple[int, str]]:
    with pytest.raises(CandleFileError) as ei:
        parse_candle_file(data.encode() if isinstance(data, str) else data, **kw)
    return ei.value.errors


def test_iso_times_with_and_without_offset_become_utc():
    df = parse_candle_file((" Time ,OPEN,High,low,Close,VOLUME,extra\n"
                            f"2024-01-01T00:02:00+02:00,{ROW},x\n"      # 2023-12-31 22:02 UTC
                            f"2024-01-01 00:00:00,{ROW},y\n"            # naive: taken as UTC
                            f"2024-01-01T00:01:00Z,{ROW},z\n").encode())
    assert list(df.index) == [pd.Timestamp("2023-12-31T22:02Z"), pd.Timestamp("2024-01-01T00:00Z"),
                              pd.Timestamp("2024-01-01T00:01Z")]
    assert list(df.columns) == ["open", "high", "low", "close", "volume"]
    assert all(df.dtypes == "float64") and df.index.name == "time" and str(df.index.tz) == "UTC"
    assert df.iloc[0].tolist() == [1, 2, 0.5, 1.5, 10]


@pytest.mark.parametrize("col, t0, t1", [
    ("timestamp", "1704067200", "1704067260"),          # seconds
    ("open_time", "1704067200000", "1704067260000"),    # milliseconds (Binance export)
    ("Timestamp", "1704067200.0", "1704067260.0"),
])
def test_epoch_seconds_and_milliseconds_are_detected(col, t0, t1):
    df = parse_candle_file(f"{col},open,high,low,close,volume\n{t1},{ROW}\n{t0},{ROW}\n".encode(), timeframe="1m")
    assert list(df.index) == [pd.Timestamp("2024-01-01T00:00Z"), pd.Timestamp("2024-01-01T00:01Z")]


def test_semicolon_files_blank_lines_and_spaces():
    df = parse_candle_file(b"time;open;high;low;close;volume\n\n2024-01-01T00:00Z; 1 ;2;0.5;1.5; 10\n\n")
    assert df.iloc[0].tolist() == [1, 2, 0.5, 1.5, 10]


def test_bad_rows_are_reported_with_line_numbers_and_nothing_returned():
    text = (HEADER                                          # line 1
            + f"2024-01-01T00:00Z,{ROW}\n"                   # 2 ok
            + "2024-01-01T00:01Z,1,0.9,0.5,1.5,10\n"         # 3 high below close
            + f"not a date,{ROW}\n"                          # 4 bad time
            + "\n"                                           # 5 blank: skipped, still counted
            + "2024-01-01T00:03Z,1,2,0.5,1.5,-4\n"           # 6 negative volume
            + "2024-01-01T00:04Z,1,2,,1.5,abc\n"             # 7 missing low, non-numeric volume
            + f"2024-01-01T00:00Z,{ROW}\n"                   # 8 duplicate of line 2
            + f"2024-01-01T00:05:30Z,{ROW}\n")               # 9 not aligned to 1m
    errors = parse_error(text, timeframe="1m")
    assert errors == [
        (3, "high 0.9 is below max(open, close) 1.5"),
        (4, "time 'not a date' is neither ISO-8601 nor an epoch number"),
        (6, "volume -4 is negative"),
        (7, "low is missing; volume is 'abc', not a finite number"),
        (8, "duplicate time 2024-01-01T00:00:00+00:00 (first on line 2)"),
        (9, "open time is not aligned to a 1m boundary"),
    ]


def test_wrong_field_count_is_reported_by_line():
    assert parse_error(HEADER + f"2024-01-01T00:00Z,{ROW}\n2024-01-01T00:01Z,1,2\n") == [
        (3, "expected 6 fields, found 3")]


def test_mixed_epoch_units_are_reported():
    errors = parse_error(HEADER + f"1704067200,{ROW}\n1704067260,{ROW}\n1704067320000,{ROW}\n")
    assert errors == [(4, "epoch time 1704067320000 looks like ms but the rest of the file uses s")]


def test_missing_columns_and_empty_files():
    assert parse_error("time,open,high,low,close\n2024-01-01,1,2,0.5,1.5\n") == [
        (1, "missing column(s): volume")]
    assert parse_error("when,open,high,low,close,volume\n") == [
        (1, "no time column (expected one of time, timestamp, open_time, date, datetime)")]
    assert parse_error("") == [(1, "the file is empty (no header line)")]
    assert parse_error(HEADER) == [(1, "the file has a header but no candles")]


def test_error_message_is_readable_and_capped():
    text = HEADER + "".join(f"2024-01-01T00:{m:02d}Z,1,2,0.5,1.5,-1\n" for m in range(30))
    with pytest.raises(CandleFileError) as ei:
        parse_candle_file(text.encode())
    assert len(ei.value.errors) == 30
    msg = str(ei.value)
    assert msg.startswith("upload: 30 problem(s): line 2: volume -1 is negative")
    assert msg.endswith("... and 10 more")


def test_paths_and_file_objects(tmp_path):
    p = tmp_path / "btc.csv"
    p.write_text(HEADER + f"2024-01-01T00:00Z,{ROW}\n")
    assert len(parse_candle_file(p)) == 1
    assert len(parse_candle_file(str(p))) == 1
    assert len(parse_candle_file(io.StringIO(HEADER + f"2024-01-01T00:00Z,{ROW}\n"))) == 1
    with pytest.raises(CandleFileError, match="no such file"):
        parse_candle_file(tmp_path / "missing.csv")


def test_parquet_roundtrip_with_time_column_and_index(tmp_path):
    df = make_candles(100)
    p = tmp_path / "c.parquet"
    df.to_parquet(p)  # DatetimeIndex named time
    out = parse_candle_file(p, timeframe="1m")
    pd.testing.assert_frame_equal(out, df, check_freq=False, check_index_type=False)
    # epoch-ms column, upper-case names, read from bytes (format found from the PAR1 magic)
    raw = df.reset_index()
    raw["time"] = df.index.as_unit("ms").asi8
    raw.columns = [c.upper() for c in raw.columns]
    buf = io.BytesIO()
    raw.to_parquet(buf)
    out2 = parse_candle_file(buf.getvalue())
    pd.testing.assert_frame_equal(out2, df, check_freq=False, check_index_type=False)


def test_parquet_bad_rows_use_row_numbers(tmp_path):
    df = make_candles(5)
    df.iloc[3, df.columns.get_loc("volume")] = -1
    p = tmp_path / "bad.parquet"
    df.to_parquet(p)
    assert parse_error(p.read_bytes()) == [(4, "volume -1 is negative")]


def test_partial_parse_keeps_the_good_lines_and_lists_the_bad():
    data = (HEADER + "2024-01-01T00:00Z,1,2,0.5,1.5,10\n"
            "2024-01-01T01:00Z,0,0,0,0,0\n"                  # a zero close, as some exchange dumps have
            "2024-01-01T02:00Z,1,2,0.5,1.5,10\n"
            "2024-01-01T02:00Z,1,2,0.5,1.6,10\n").encode()    # a repeated time: the first copy is kept
    frame, rejected = parse_candle_file_partial(data, timeframe="1h")
    assert list(frame.index) == [pd.Timestamp("2024-01-01T00:00Z"), pd.Timestamp("2024-01-01T02:00Z")]
    assert frame["close"].tolist() == [1.5, 1.5]
    assert [line for line, _ in rejected] == [3, 5]
    assert "prices must be > 0" in rejected[0][1] and "duplicate time" in rejected[1][1]
    clean, none = parse_candle_file_partial(HEADER.encode() + b"2024-01-01T00:00Z,1,2,0.5,1.5,10\n", timeframe="1h")
    assert none == [] and len(clean) == 1


def test_partial_parse_still_refuses_a_bad_header_or_only_bad_rows():
    with pytest.raises(CandleFileError, match="missing column"):
        parse_candle_file_partial(b"time,open,high,low,close\n2024-01-01T00:00Z,1,2,0.5,1.5\n")
    with pytest.raises(CandleFileError, match="no candles"):
        parse_candle_file_partial(HEADER.encode())


def test_finding_13_an_all_bad_file_with_partial_lists_its_bad_lines():
    with pytest.raises(CandleFileError) as ei:
        parse_candle_file_partial((HEADER + "2024-01-01T00:00Z,0,0,0,0,0\n" + "later,1,2,0.5,1.5,10\n").encode())
    assert [line for line, _ in ei.value.errors] == [2, 3]
    assert "no candles" not in str(ei.value) and "line 2: " in str(ei.value) and "line 3: time 'later'" in str(ei.value)


@pytest.mark.parametrize("when", ["9999-01-01T00:00:00Z", "1969-12-31T23:00:00Z", "3000-06-01", "12345-01-01"])
def test_finding_13_out_of_range_dates_are_rejected_with_their_line(when):
    errors = parse_error(HEADER + f"2024-01-01T00:00Z,{ROW}\n{when},{ROW}\n2024-01-01T01:00Z,{ROW}\n")
    assert len(errors) == 1 and errors[0][0] == 3, errors
    assert "out of range" in errors[0][1] and repr(when) in errors[0][1]


def test_finding_13_a_bar_from_the_future_is_out_of_range():
    future = (pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=3)).floor("h").isoformat()
    assert parse_error(HEADER + f"{future},{ROW}\n")[0][0] == 2


def test_finding_13_chunks_find_duplicates_and_keep_line_numbers_across_chunks():
    from app.market.csv_import import iter_candle_chunks

    text = (HEADER + "".join(f"2024-01-01T{h:02d}:00Z,{ROW}\n" for h in range(5))
            + "\n" + f"2024-01-01T01:00Z,{ROW}\n" + "2024-01-01T09:00Z,1,0.1,0.5,1.5,10\n")
    chunks = list(iter_candle_chunks(text.encode(), timeframe="1h", chunk_rows=2))
    assert len(chunks) == 4 and [c.rows for c in chunks] == [2, 2, 2, 1]
    assert sum(len(c.frame) for c in chunks) == 5
    rejected = [r for c in chunks for r in c.rejected]
    assert rejected == [(8, "duplicate time 2024-01-01T01:00:00+00:00 (first on line 3)"),
                        (9, "high 0.1 is below max(open, close) 1.5")]
    # the same reasons as the one-piece parse
    assert parse_error(text, timeframe="1h") == rejected


def test_an_epoch_time_after_2262_is_a_refused_line():
    """1e10 s, 9.3e12 ms and 9.3e15 us overflow nanoseconds (found by fuzzing; was an OverflowError)."""
    for t in ("10000000000", "9300000000000", "9300000000000000"):
        with pytest.raises(CandleFileError) as err:
            parse_candle_file(f"time,open,high,low,close,volume\n{t},1,1,1,1,1\n".encode(), file_format="csv")
        [(line, why)] = err.value.errors
        assert line == 2 and why.startswith(f"time '{t}' is out of range")
    frame, rejected = parse_candle_file_partial(
        b"time,open,high,low,close,volume\n10000000000,1,1,1,1,1\n1767225600,1,1,1,1,1\n")
    assert len(frame) == 1 and [n for n, _ in rejected] == [2]
