"""Candle validation: a candle frame (``app.market.validate``) and an exchange's klines answer
(``app.market.sources``) are either refused with a message naming what is wrong, or come back valid."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
from hypothesis import example, given, strategies as st

from app.market.sources.binance import BinanceSource
from app.market.sources.errors import ExchangeError
from app.market.validate import CandleValidationError, validate_candles
from app.marketdata import OHLCV
from tests.fuzz.conftest import assert_valid, junk

HOUR = 3600
numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 10**6),
                    st.sampled_from(["1.5", "", "abc", None, "nan", "-0"]))


@st.composite
def candle_frames(draw):
    n = draw(st.integers(0, 8))
    base = 1_700_000_000 // HOUR * HOUR
    offsets = draw(st.lists(st.one_of(st.integers(-5, 5).map(lambda k: k * HOUR), st.integers(-10**5, 10**5)),
                            min_size=n, max_size=n))
    tz = draw(st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]))
    index = pd.DatetimeIndex(pd.to_datetime([base + o for o in offsets], unit="s", utc=True)).tz_convert(tz)
    cols = {c: draw(st.lists(numbers, min_size=n, max_size=n)) for c in OHLCV}
    return pd.DataFrame(cols, index=index)


@given(candle_frames(), st.booleans())
def test_candle_frames_are_refused_with_reasons_or_come_back_valid(frame, partial):
    try:
        result = validate_candles(frame, "1h", partial=partial)
    except CandleValidationError as exc:
        assert not partial
        assert exc.rejections and "invalid 1h candle" in str(exc)
        return
    assert_valid(result.valid, HOUR)
    assert len(result.valid) + len(result.rejected) + result.duplicates == len(frame)
    for r in result.rejected:
        assert r.reason  # every dropped row says why


@given(junk)
def test_anything_that_is_not_a_candle_frame_is_a_clear_value_error(value):
    try:
        validate_candles(value, "1h")
    except ValueError as exc:
        assert "candle frame" in str(exc)
    else:
        raise AssertionError(f"accepted {value!r}")


class _Http:
    """The exchange's JSON answer, page after page (then an empty page)."""

    def __init__(self, pages):
        self.pages = list(pages)

    def get_json(self, path, params, check=None):
        return self.pages.pop(0) if self.pages else []

    def close(self):
        pass


START = datetime(2024, 1, 1, tzinfo=timezone.utc)
kline_field = st.one_of(numbers, junk, st.integers(-10**15, 10**15).map(str))


@st.composite
def klines_answers(draw):
    """A klines answer: mostly well-formed rows with fuzzed fields, sometimes any JSON at all."""
    start_ms = int(START.timestamp()) * 1000
    rows = []
    for i in range(draw(st.integers(0, 6))):
        open_ms = draw(st.one_of(st.just(start_ms + i * HOUR * 1000), kline_field))
        fields = [draw(st.one_of(st.sampled_from(["100", "101.5", 99.0, "0"]), kline_field)) for _ in range(5)]
        rows.append([open_ms, *fields, *draw(st.lists(junk, max_size=2))])
    return draw(st.one_of(st.just(rows), junk))


@given(klines_answers())
@example([[15_597_360_000_000, "100", "101.5", "99.0", "100", "1"]])  # an open time in 2464: OutOfBoundsDatetime
def test_an_exchange_answer_is_refused_as_a_bad_payload_or_gives_valid_candles(answer):
    source = BinanceSource(_Http([answer]), clock=lambda: datetime(2024, 1, 2, tzinfo=timezone.utc))
    try:
        frame = source.fetch_candles("BTC/USDT", "1h", START, datetime(2024, 1, 1, 12, tzinfo=timezone.utc))
    except ExchangeError as exc:
        assert str(exc).startswith("binance:") or "binance" in str(exc).lower()
        return
    # what the source returns goes to validate_candles before anything is stored
    try:
        result = validate_candles(frame, "1h")
    except CandleValidationError as exc:
        assert exc.rejections
        return
    assert_valid(result.valid, HOUR)
