"""Run-request validation (app.backtest.requests): pure, with a hand-built catalog and bar counter."""
from datetime import datetime, timezone

import pytest

from app.backtest.requests import MAX_RUNS, InvalidRequest, parse_request, parse_time, strategy_choices
from app.market.query import Catalog

CAT = Catalog(symbols=["BTC/USDT", "ETH/USDT"],
              timeframes={"BTC/USDT": ["15m", "1h"], "ETH/USDT": ["1h"]},
              exchange={"BTC/USDT": "demo", "ETH/USDT": "binance"})
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def bars(n=1000):
    calls = []

    def count(exchange, symbol, timeframe, start, end):
        calls.append((exchange, symbol, timeframe, start, end))
        return n

    count.calls = calls
    return count


def form(**changes):
    base = {"symbols": ["BTC/USDT"], "timeframe": "1h", "start": "2026-01-01", "end": "2026-03-31",
            "strategy": "ma_cross", "params": {"fast": "10", "slow": "30"}}
    base.update(changes)
    return base


def errors_of(f, count=None):
    with pytest.raises(InvalidRequest) as err:
        parse_request(f, CAT, count or bars(), NOW)
    return err.value.errors


def test_a_valid_form_gives_one_run_with_typed_params_and_costs():
    count = bars()
    [spec] = parse_request(form(fee_bps="10", slippage_bps="5", fraction_pct="50", stop_loss_pct="2"), CAT, count, NOW)
    assert spec.params == {"fast": 10, "slow": 30, "ema": False, "allow_short": True, "entry": "cross"}
    assert isinstance(spec.params["fast"], int)
    assert spec.config.costs.taker_fee == pytest.approx(0.001) and spec.config.costs.slippage_bps == 5
    assert spec.config.fraction == 0.5 and spec.config.stop_loss == pytest.approx(0.02)
    assert spec.start == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert spec.end == datetime(2026, 4, 1, tzinfo=timezone.utc)  # the end date is inclusive
    assert count.calls == [("demo", "BTC/USDT", "1h", spec.start, spec.end)]
    doc = spec.to_json()
    assert doc["backtest"]["costs"]["taker_fee"] == pytest.approx(0.001) and doc["strategy"] == "ma_cross"


def test_lists_expand_into_a_batch_over_symbols_and_values():
    specs = parse_request(form(symbols=["BTC/USDT", "ETH/USDT"], params={"fast": "5, 10", "slow": [20, 40]}),
                          CAT, bars(), NOW)
    assert len(specs) == 8
    assert {(s.symbol, s.exchange) for s in specs} == {("BTC/USDT", "demo"), ("ETH/USDT", "binance")}
    assert {(s.params["fast"], s.params["slow"]) for s in specs} == {(5, 20), (5, 40), (10, 20), (10, 40)}


def test_invalid_combinations_are_dropped_but_all_invalid_is_an_error():
    specs = parse_request(form(params={"fast": "10, 50", "slow": "30"}), CAT, bars(), NOW)
    assert [s.params["fast"] for s in specs] == [10]
    assert any("fast must be smaller than slow" in e for e in errors_of(form(params={"fast": "50", "slow": "30"})))


def test_walk_forward_uses_the_lists_as_its_grid():
    [spec] = parse_request(form(mode="walk_forward", train_bars="200", test_bars="50", wf_metric="sortino",
                                params={"fast": "5, 10", "slow": "30, 40"}), CAT, bars(), NOW)
    assert spec.kind == "walk_forward"
    assert spec.walk_forward == {"train_bars": 200, "test_bars": 50, "metric": "sortino",
                                 "grid": {"fast": [5, 10], "slow": [30, 40], "ema": [False], "allow_short": [True],
                                          "entry": ["cross"]}}
    errs = errors_of(form(mode="walk_forward", train_bars="900", test_bars="200"), bars(1000))
    assert any("Too few bars" in e and "needs at least 1100" in e for e in errs)


@pytest.mark.parametrize("changes, message", [
    ({"start": "yesterday-ish"}, "Start date 'yesterday-ish' is not a date"),
    ({"end": ""}, "End date is required"),
    ({"start": "2026-03-01", "end": "2026-02-01"}, "The start date must be before the end date"),
    ({"start": "2027-01-01", "end": "2027-02-01"}, "The start date is in the future"),
    ({"symbols": []}, "Choose at least one symbol"),
    ({"symbols": ["DOGE/XYZ"]}, "Unknown symbol 'DOGE/XYZ'. Available: BTC/USDT, ETH/USDT."),
    ({"symbols": ["ETH/USDT"], "timeframe": "15m"}, "No '15m' candles for ETH/USDT"),
    ({"symbols": ["not a symbol"]}, "symbol"),
    ({"timeframe": None}, "Choose a timeframe"),
    ({"strategy": "astrology"}, "Unknown strategy 'astrology'"),
    ({"strategy": "lstm", "params": {}}, "No champion LSTM model for BTC/USDT 1h: train one"),
    ({"params": {"fast": "1.5", "slow": "30"}}, "fast must be a whole number"),
    ({"params": {"fast": "abc", "slow": "30"}}, "fast must be a number"),
    ({"params": {"fast": "10", "slow": "9000"}}, "slow must be <= 2000"),
    ({"params": {"fats": "10"}}, "unknown parameters ['fats']"),
    ({"fee_bps": "5000"}, "Fee (bps) must be between 0 and 1000"),
    ({"slippage_bps": "x"}, "Slippage (bps) must be a number"),
    ({"sizing": "martingale"}, "Sizing must be one of"),
    ({"fraction_pct": "0"}, "Position size (% of equity) must be between"),
    ({"mode": "walk_forward", "train_bars": "", "test_bars": "50"}, "Training window (bars) is required"),
    ({"mode": "walk_forward", "train_bars": "100", "test_bars": "50", "wf_metric": "luck"}, "metric must be one of"),
    ({"mode": "sideways"}, "Mode must be 'single' or 'walk_forward'"),
])
def test_bad_input_gets_a_clear_message(changes, message):
    assert any(message in e for e in errors_of(form(**changes))), errors_of(form(**changes))


def test_every_problem_is_reported_at_once():
    errs = errors_of(form(start="bad", fee_bps="-1", params={"fast": "0", "slow": "30"}))
    assert len(errs) == 3


def test_too_few_bars_names_the_series_and_the_need():
    errs = errors_of(form(params={"fast": "10", "slow": "100"}), bars(150))
    assert errs == [errs[0]] and "BTC/USDT 1h has 150 bars" in errs[0] and "needs at least 200" in errs[0]


def test_batches_are_capped():
    values = ", ".join(str(v) for v in range(2, 2 + MAX_RUNS + 1))
    assert any("a batch may hold at most" in e for e in errors_of(form(params={"fast": values, "slow": "500"})))


def test_several_strategies_in_one_request():
    specs = parse_request(form(strategies=[{"name": "ma_cross", "params": {"fast": 5, "slow": 20}},
                                           {"name": "macd_trend", "params": {}}]), CAT, bars(), NOW)
    assert [s.strategy for s in specs] == ["ma_cross", "macd_trend"]


def test_strategy_choices_show_what_the_lstm_needs():
    choices = {c["name"]: c for c in strategy_choices()}
    assert not choices["lstm"]["disabled"] and "champion LSTM" in choices["lstm"]["reason"]
    assert not choices["ma_cross"]["disabled"] and "buy_and_hold" not in choices
    assert [p["name"] for p in choices["ma_cross"]["schema"]] == ["fast", "slow", "ema", "allow_short", "entry"]


def test_parse_time_accepts_iso_datetimes_as_utc():
    assert parse_time("End", "2026-01-01T12:00:00+02:00", end=True) == datetime(2026, 1, 1, 10, tzinfo=timezone.utc)
    assert parse_time("Start", "2026-01-01T12:00", end=False) == datetime(2026, 1, 1, 12, tzinfo=timezone.utc)


def test_lstm_runs_need_a_champion_model_per_symbol_and_timeframe():
    asked = []

    def has_model(symbol, timeframe):
        asked.append((symbol, timeframe))
        return symbol == "BTC/USDT"

    f = form(symbols=["BTC/USDT", "ETH/USDT"], strategy="lstm", params={})
    with pytest.raises(InvalidRequest) as err:
        parse_request(f, CAT, bars(), NOW, has_model=has_model)
    assert err.value.errors == ["No champion LSTM model for ETH/USDT 1h: train one "
                                "(flask ml train --symbol ETH/USDT --timeframe 1h) or pick another strategy."]
    assert asked == [("BTC/USDT", "1h"), ("ETH/USDT", "1h")]
    [spec] = parse_request(form(strategy="lstm", params={}), CAT, bars(), NOW, has_model=has_model)
    assert spec.strategy == "lstm" and spec.params["enter_long"] == 0.55
