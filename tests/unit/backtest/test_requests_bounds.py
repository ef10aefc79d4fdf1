"""Request bounds and type checks of app.backtest.requests (the parser a form and a REST API share)."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from app.backtest.requests import (ENUMERATE_LIMIT, MAX_GRID, MAX_SYMBOLS, MAX_VALUES, InvalidRequest, grid_size,
                                   parse_request, request_schema)
from app.market.query import Catalog

CAT = Catalog(symbols=["BTC/USDT", "ETH/USDT"], timeframes={"BTC/USDT": ["1m", "1h"], "ETH/USDT": ["1h"]},
              exchange={"BTC/USDT": "demo", "ETH/USDT": "demo"})
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def count(*_):
    return 100_000


def form(**changes):
    base = {"symbols": ["BTC/USDT"], "timeframe": "1h", "start": "2026-01-01", "end": "2026-03-31",
            "strategy": "ma_cross", "params": {"fast": "10", "slow": "30"}}
    base.update(changes)
    return base


def errors_of(f):
    with pytest.raises(InvalidRequest) as err:
        parse_request(f, CAT, count, NOW)
    return err.value.errors


@pytest.mark.timeout(20)
def test_finding_1_a_small_walk_forward_request_cannot_exhaust_the_worker():
    """The security finding: ~9.5 KB of comma-separated values for fast, slow and a repeated
    boolean used to be expanded into every combination before the cap was checked (76 s CPU,
    2.4 GB). It is refused at once, naming the fields, without building a combination."""
    params = {"fast": ",".join(str(v) for v in range(2, 400)),
              "slow": ",".join(str(v) for v in range(3, 1500)),
              "ema": ",".join(["true", "false"] * 150)}
    request = form(mode="walk_forward", train_bars="64", test_bars="5", params=params)
    assert 9_000 < sum(len(v) for v in params.values()) < 10_500
    t = time.perf_counter()
    errs = errors_of(request)
    elapsed = time.perf_counter() - t
    assert elapsed < 1.0, elapsed
    assert errs == ["params.slow holds 6,383 characters; at most 2,000 per field."], errs
    # under the text bound, the value count is the next limit, still before any combination
    params["slow"] = ",".join(str(v) for v in range(3, 500))
    t = time.perf_counter()
    errs = errors_of(form(mode="walk_forward", train_bars="64", test_bars="5", params=params))
    assert time.perf_counter() - t < 1.0
    assert any("fast has 398 values" in e and f"at most {MAX_VALUES}" in e for e in errs), errs


@pytest.mark.timeout(20)
def test_finding_1_grid_over_the_cap_is_counted_not_built():
    fast = ",".join(str(v) for v in range(2, 80))          # 78 values, each list under MAX_VALUES
    slow = ",".join(str(v) for v in range(100, 180))       # 80 values
    t = time.perf_counter()
    errs = errors_of(form(mode="walk_forward", train_bars="200", test_bars="50",
                          params={"fast": fast, "slow": slow, "ema": "true, false"}))
    assert time.perf_counter() - t < 1.0
    [msg] = errs
    assert "78 fast × 80 slow × 2 ema = 12,480 parameter combinations" in msg
    assert f"at most {MAX_GRID} parameter sets" in msg
    assert grid_size({"fast": range(78), "slow": range(80), "ema": [True, False]}) == 12_480 > ENUMERATE_LIMIT


def test_finding_1_batch_over_the_cap_on_many_symbols_is_refused_at_once():
    errs = errors_of(form(symbols=["BTC/USDT", "ETH/USDT"], params={"fast": ",".join(map(str, range(2, 90))),
                                                                    "slow": ",".join(map(str, range(90, 110)))}))
    assert any("on 2 symbols" in e and "a batch may hold at most 60 runs" in e for e in errs), errs


def test_repeated_values_count_once():
    [spec] = parse_request(form(mode="walk_forward", train_bars="200", test_bars="50",
                                params={"fast": "5, 5, 5", "slow": "30", "ema": "true, true, yes"}), CAT, count, NOW)
    assert spec.walk_forward["grid"]["fast"] == [5] and spec.walk_forward["grid"]["ema"] == [True]


def test_finding_1_list_fields_are_bounded():
    many = [f"S{k}/USDT" for k in range(MAX_SYMBOLS + 1)]
    assert any(f"at most {MAX_SYMBOLS}" in e for e in errors_of(form(symbols=many)))
    assert errors_of(form(start="2" * 2_001)) == ["start holds 2,001 characters; at most 2,000 per field."]
    assert any("more than 20,000 characters" in e
               for e in errors_of(form(params={"fast": "1" * 1_900, "slow": "2"}, extra=["x" * 1_999] * 11)))
    assert any("at most 10" in e for e in errors_of(form(strategies=[{"name": "ma_cross"}] * 11)))
    assert errors_of(form(params={"fast": [[[["5"]]]]})) == ["params.fast[0][0] is nested too deeply."]


@pytest.mark.parametrize("changes, message", [
    ({"timeframe": ["1h", "1m"]}, "Timeframe must be one of"),
    ({"timeframe": {"tf": "1h"}}, "Timeframe must be one of"),
    ({"timeframe": "7h"}, "Timeframe must be one of"),
    ({"strategy": ["ma_cross"]}, "Unknown strategy ['ma_cross']"),
    ({"strategy": {"name": "ma_cross"}}, "Unknown strategy"),
    ({"params": {"fast": "inf", "slow": "30"}}, "fast must be finite"),
    ({"params": {"fast": "nan", "slow": "30"}}, "fast must be finite"),
    ({"params": {"fast": 10 ** 400, "slow": "30"}}, "fast must be finite"),
    ({"params": {"fast": True, "slow": "30"}}, "fast must be a number, got True"),
    ({"params": {"fast": {"v": 3}, "slow": "30"}}, "fast must be a number"),
    ({"params": {"fast": "10", "slow": "30", "ema": "maybe"}}, "ema must be true or false, got 'maybe'"),
    ({"params": {"fast": "10", "slow": "30", "ema": 1}}, "ema must be true or false"),
    ({"params": {"fast": "10", "slow": "30", "entry": "often"}}, "entry must be one of cross, state"),
    ({"params": ["fast", "10"]}, "parameters must be a mapping"),
    ({"fee_bps": True}, "Fee (bps) must be a number, got True"),
    ({"fee_bps": [4]}, "Fee (bps) must be a number"),
    ({"fee_bps": "1e400"}, "Fee (bps) must be between"),
    ({"slippage_bps": {"x": 1}}, "Slippage (bps) must be a number"),
    ({"initial_cash": False}, "Initial cash must be a number, got False"),
    ({"sizing": ["fixed_cash"]}, "Sizing must be one of"),
    ({"mode": ["walk_forward"]}, "Mode must be 'single' or 'walk_forward'"),
    ({"mode": "walk_forward", "train_bars": True, "test_bars": "50"}, "Training window (bars) must be a number"),
    ({"mode": "walk_forward", "train_bars": "100", "test_bars": "50", "wf_metric": ["sharpe"]},
     "Walk-forward metric must be one of"),
    ({"start": ["2026-01-01"]}, "Start date must be a date"),
    ({"end": 20260101}, "End date must be a date"),
    ({"symbols": {"BTC/USDT": 1}}, "Symbols must be a list"),
    ({"symbols": [["BTC/USDT"]]}, "Symbols must be text"),
    ({"strategies": "ma_cross"}, "Strategies must be a list"),
    ({"strategies": False}, "Strategies must be a list"),
    ({"strategies": 0}, "Strategies must be a list"),
    ({"strategies": {}}, "Strategies must be a list"),
    ({"strategies": ["ma_cross"]}, "Strategy 1 must be a mapping"),
])
def test_finding_11_type_confused_input_gets_a_field_message(changes, message):
    errs = errors_of(form(**changes))
    assert any(message in e for e in errs), errs


def test_finding_11_the_request_itself_must_be_a_mapping():
    with pytest.raises(InvalidRequest, match="must be a mapping"):
        parse_request(["timeframe", "1h"], CAT, count, NOW)


def test_booleans_and_choices_parse_from_form_text():
    [spec] = parse_request(form(params={"fast": "10", "slow": "30", "ema": "Yes", "allow_short": "off",
                                        "entry": " state "}), CAT, count, NOW)
    assert spec.params["ema"] is True and spec.params["allow_short"] is False and spec.params["entry"] == "state"


def test_request_schema_describes_fields_limits_and_strategies():
    schema = request_schema()
    assert schema["fields"]["fee_bps"] == {"type": "number", "title": "Fee (bps)", "minimum": 0, "maximum": 1000,
                                           "default": 4.0, "required": False}
    assert schema["fields"]["timeframe"]["required"] and "1h" in schema["fields"]["timeframe"]["enum"]
    assert schema["limits"]["max_walk_forward_grid"] == MAX_GRID
    ma = next(s for s in schema["strategies"] if s["name"] == "ma_cross")
    assert next(p for p in ma["schema"] if p["name"] == "entry")["choices"] == ["cross", "state"]


BAD_VALUES = [["1h"], {"a": 1}, True, False, "x" * 3_000, float("nan"), float("inf"), -1, 10 ** 400, "inf", "nan",
              "1e400", [None], [["a"]], [{"a": 1}]]


@pytest.mark.parametrize("field", sorted(set(request_schema()["fields"]) | {"strategies"}))
def test_finding_11_every_field_refuses_wrong_types_with_its_message(field):
    """Each form field, given each wrong-typed value, is refused with a message, never accepted and never
    another exception (a boolean is no number, a non-finite number no number, a list no timeframe...)."""
    walk = {"mode": "walk_forward", "train_bars": "100", "test_bars": "50"} if field in (
        "train_bars", "test_bars", "wf_metric") else {}
    for value in BAD_VALUES:
        with pytest.raises(InvalidRequest) as err:
            parse_request(form(**{**walk, field: value}), CAT, count, NOW)
        assert err.value.errors and all(isinstance(e, str) and e for e in err.value.errors), (field, value)
