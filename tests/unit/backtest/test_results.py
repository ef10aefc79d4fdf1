"""app.backtest.results: what is stored of a run comes back exactly."""
import numpy as np
import pandas as pd

from app.backtest.config import BacktestConfig
from app.backtest.results import clean_metrics, decode_curves, encode_curves, trades_from_records, trades_to_records
from app.backtest.runner import buy_and_hold, run_strategy
from app.backtest.strategies import get_strategy
from tests.unit.backtest.backtest_candles import random_candles


def _pair():
    candles = random_candles()
    config = BacktestConfig(stop_loss=0.03)
    return run_strategy(candles, get_strategy("ma_cross", fast=5, slow=20), config), buy_and_hold(candles, config)


def test_curves_round_trip_bit_for_bit():
    result, bench = _pair()
    back = decode_curves(encode_curves(result, bench))
    np.testing.assert_array_equal(back["equity"], result.equity.to_numpy())
    np.testing.assert_array_equal(back["bench_equity"], bench.equity.to_numpy())
    np.testing.assert_array_equal(back["time"], result.equity.index.as_unit("ns").asi8)
    np.testing.assert_array_equal(back["position"], result.positions.iloc[:, 0].to_numpy(np.int8))


def test_trade_records_round_trip():
    result, _ = _pair()
    records = trades_to_records(result.trades)
    assert len(records) == len(result.trades) > 0 and isinstance(records[0]["entry_time"], str)
    back = trades_from_records(records)
    for col in ("qty", "entry_price", "exit_price", "pnl", "fees"):
        np.testing.assert_allclose(back[col].to_numpy(), result.trades[col].to_numpy())
    assert (back["entry_time"] == pd.DatetimeIndex(result.trades["entry_time"])).all()
    assert list(back["exit_reason"]) == list(result.trades["exit_reason"].astype(str))


def test_clean_metrics_turns_non_finite_numbers_into_none():
    assert clean_metrics({"a": float("inf"), "b": np.float64(1.5), "c": np.int64(3), "d": float("nan")}) == \
        {"a": None, "b": 1.5, "c": 3, "d": None}
