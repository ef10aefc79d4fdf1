"""Paper fills through the engine: stepped bar by bar they equal one backtest of the whole span."""
from dataclasses import replace

import pandas as pd
import pytest

from app.backtest.config import BacktestConfig, Costs
from app.portfolio import paper
from app.portfolio.reconcile import reconcile
from tests.unit.backtest.backtest_candles import random_candles

BARS = random_candles(n=paper.WARMUP_BARS + 160, seed=11)
START = BARS.index[WARM := paper.WARMUP_BARS]


def _spec(**config):
    cfg = BacktestConfig(costs=Costs(taker_fee=0.001, maker_fee=0.0005, slippage_bps=5), **config)
    return paper.make_spec(exchange="demo", symbol="BTC/USDT", timeframe="1h", strategy="ma_cross",
                           params={"fast": 5, "slow": 20}, config=cfg, start_at=START)


def _stepped(spec, every=1):
    """What the paper job stores: a run per step over the bars closed so far, first fill per key kept."""
    stored = {}
    for end in [*range(WARM + 2, len(BARS), every), len(BARS)]:
        for f in paper.fills(paper.run(spec, BARS.iloc[:end])):
            stored.setdefault(f.key, f)
    return list(stored.values())


@pytest.mark.parametrize("config", [{}, {"stop_loss": 0.01, "take_profit": 0.02}, {"trailing_stop": 0.015}])
def test_stepped_fills_equal_the_backtest(config):
    spec = _spec(**config)
    stepped = _stepped(spec, every=3)
    backtest = paper.fills(paper.run(spec, BARS))
    assert len(backtest) > 10
    assert reconcile(stepped, backtest)["match_rate"] == 100.0
    assert [f.to_dict() for f in sorted(stepped, key=lambda f: f.key)] == \
           [f.to_dict() for f in sorted(backtest, key=lambda f: f.key)]


def test_catch_up_after_missed_bars_gives_the_same_fills():
    spec = _spec(stop_loss=0.01)
    assert [f.to_dict() for f in _stepped(spec, every=37)] == [f.to_dict() for f in _stepped(spec, every=2)]


def test_fills_follow_the_engine_rules():
    spec = _spec()
    result = paper.run(spec, BARS)
    fills = paper.fills(result)
    entry = fills[0]
    assert entry.leg == "entry" and entry.time >= START
    i = BARS.index.get_loc(entry.time)
    slip = 5 / 1e4
    side = 1 if entry.side == "buy" else -1
    # market order at the open of the bar after the signal, slippage against us, taker fee
    assert entry.price == pytest.approx(BARS["open"].iloc[i] * (1 + side * slip))
    assert entry.fee == pytest.approx(entry.qty * entry.price * 0.001)
    trades = result.trades
    # the legs' fees add up to the engine's trade fees (an open trade has paid its entry fee only)
    open_entry = (trades.qty * trades.entry_price * 0.001)[trades.exit_reason == "open"].sum()
    closed = trades["fees"][trades.exit_reason != "open"].sum()
    assert sum(f.fee for f in fills) == pytest.approx(closed + open_entry)


def test_an_open_position_has_only_its_entry():
    result = paper.run(_spec(), BARS)
    last = result.trades.iloc[-1]
    keys = {(f.trade_no, f.leg) for f in paper.fills(result)}
    n = len(result.trades) - 1
    assert ((n, "exit") in keys) == (last.exit_reason != "open") and (n, "entry") in keys


def test_no_look_ahead_future_bars_do_not_change_past_fills():
    spec = _spec(stop_loss=0.01)
    cut = WARM + 100
    before = paper.fills(paper.run(spec, BARS.iloc[:cut]))
    changed = BARS.copy()
    changed.iloc[cut:, :4] *= 1.5                     # a very different future
    after = {f.key: f for f in paper.fills(paper.run(spec, changed))}
    closed = [f for f in before if not (f.leg == "exit" and f.reason == "open")]
    assert closed and all(after[f.key] == f for f in closed)


def test_nothing_before_start_is_traded():
    fills = paper.fills(paper.run(_spec(), BARS))
    assert min(f.time for f in fills) > START


def test_reconcile_names_every_difference():
    spec = _spec()
    bt = paper.fills(paper.run(spec, BARS))
    stepped = list(bt)
    stepped[0] = replace(stepped[0], price=stepped[0].price * 1.01)
    del stepped[3]
    stepped.append(replace(bt[0], trade_no=999))
    report = reconcile(stepped, bt, paper_hash="a", backtest_hash="a")
    by = {(r["trade_no"], r["leg"]): r for r in report["rows"]}
    assert by[bt[0].key]["status"] == "differs" and by[bt[0].key]["fields"] == ["price"]
    assert "defect" in by[bt[0].key]["reason"]
    assert by[bt[3].key]["status"] == "missing" and "stopped or halted" in by[bt[3].key]["reason"]
    assert by[(999, "entry")]["status"] == "extra"
    assert report["match_rate"] == pytest.approx(100 * (len(bt) - 2) / (len(bt) + 1))
    changed = reconcile(stepped, bt, paper_hash="a", backtest_hash="b")
    assert all("stored bars changed" in r["reason"] for r in changed["rows"] if r["status"] != "match")


@pytest.mark.parametrize("kw, field", [({"strategy": "nope"}, "strategy"), ({"params": {"fast": -3}}, "params"),
                                       ({"params": {"zzz": 1}}, "params"), ({"timeframe": "7x"}, "timeframe"),
                                       ({"start_at": "2024-01-01"}, "start_at")])
def test_bad_specs_name_the_field(kw, field):
    args = dict(exchange="demo", symbol="BTC/USDT", timeframe="1h", strategy="ma_cross", params={},
                config=None, start_at=START, **{})
    args.update(kw)
    with pytest.raises(ValueError, match=f"^{field}:"):
        paper.make_spec(**args)


def test_signal_score_strategy_steps_like_its_backtest():
    """The score series is computed per step over the bars seen so far, as a backtest computes it."""
    from app.analysis.scoring import score_series

    spec = paper.make_spec(exchange="demo", symbol="BTC/USDT", timeframe="1h", strategy="score_threshold",
                           params={"enter_long": 55.0, "exit_long": 50.0}, config=BacktestConfig(), start_at=START)

    def run(bars):
        return paper.run(spec, bars, score_series(bars, "1h")["score"])

    stored = {}
    for end in [*range(WARM + 2, len(BARS), 15), len(BARS)]:
        for f in paper.fills(run(BARS.iloc[:end])):
            stored.setdefault(f.key, f)
    backtest = paper.fills(run(BARS))
    assert backtest
    assert reconcile(list(stored.values()), backtest)["match_rate"] == 100.0
