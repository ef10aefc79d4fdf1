"""The backtest request schema (``app.backtest.requests.parse_request``, shared by the form and the API):
any request is refused with ``InvalidRequest`` messages or gives valid run specs."""
from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import example, given, strategies as st

from app.backtest.requests import FIELDS as FORM_FIELDS, InvalidRequest, RunSpec, parse_request, strategy_choices
from app.market.query import Catalog
from tests.fuzz.conftest import junk

CAT = Catalog(symbols=["BTC/USDT", "ETH/USDT"], timeframes={"BTC/USDT": ["1m", "1h"], "ETH/USDT": ["1h"]},
              exchange={"BTC/USDT": "demo", "ETH/USDT": "demo"})
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
STRATEGIES = [c["name"] for c in strategy_choices()]
FIELDS = ["symbols", "timeframe", "start", "end", "strategy", "params", *[f for f in FORM_FIELDS if f != "timeframe"]]


def count(*_):
    return 100_000


@st.composite
def requests(draw):
    form = {"symbols": draw(st.one_of(st.just(["BTC/USDT"]), st.lists(st.sampled_from(CAT.symbols + ["DOGE/X"]),
                                                                        max_size=3), junk)),
            "timeframe": draw(st.one_of(st.sampled_from(["1h", "1m", "5m", "1w", ""]), junk)),
            "start": draw(st.one_of(st.sampled_from(["2026-01-01", "2025-12-31T23:00:00Z", "2026-05-31"]), junk)),
            "end": draw(st.one_of(st.sampled_from(["2026-03-31", "2026-01-01", "2030-01-01"]), junk)),
            "strategy": draw(st.one_of(st.sampled_from(STRATEGIES), junk)),
            "params": draw(st.one_of(st.just({"fast": "10", "slow": "30"}),
                                     st.dictionaries(st.sampled_from(["fast", "slow", "period", "x"]),
                                                     st.one_of(st.sampled_from(["10", "10,20", "5:50:5", "0", "-3"]),
                                                               junk), max_size=3),
                                     junk))}
    for name in draw(st.lists(st.sampled_from(FIELDS[6:]), max_size=4, unique=True)):
        form[name] = draw(junk)
    for name in draw(st.lists(st.sampled_from(FIELDS[:6]), max_size=2, unique=True)):
        form.pop(name, None)
    return draw(st.one_of(st.just(form), junk))


@given(requests())
# dateless start and end ("now", "12:00"): see the regression test below
@example({"symbols": ["BTC/USDT"], "timeframe": "1h", "start": "now", "end": "2026-03-31", "strategy": "ma_cross"})
@example({"symbols": ["BTC/USDT"], "timeframe": "1h", "start": "2026-01-01", "end": "12:00", "strategy": "ma_cross"})
def test_a_backtest_request_is_refused_with_messages_or_gives_valid_run_specs(form):
    try:
        specs = parse_request(form, CAT, count, NOW, has_model=lambda *_: False)
    except InvalidRequest as exc:
        assert exc.errors and all(isinstance(m, str) and m.strip() for m in exc.errors)
        return
    assert specs and all(isinstance(s, RunSpec) for s in specs)


def test_a_start_or_end_without_a_date_is_refused_naming_it():
    base = {"symbols": ["BTC/USDT"], "timeframe": "1h", "start": "2026-01-01", "end": "2026-03-31",
            "strategy": "ma_cross", "params": {"fast": "10", "slow": "30"}}
    for field, label in (("start", "Start"), ("end", "End")):
        try:
            parse_request({**base, field: "today"}, CAT, count, NOW)
        except InvalidRequest as exc:
            assert any(m.startswith(f"{label} date 'today'") for m in exc.errors), exc.errors
        else:
            raise AssertionError(f"{field}='today' was accepted")
    assert parse_request(base, CAT, count, NOW)  # a dated request still passes
