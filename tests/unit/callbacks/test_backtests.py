"""callbacks.backtests: progress state from the row, the metric cards and the batch grid."""
from types import SimpleNamespace


def _row(**kw):
    base = dict(id=7, status="queued", progress=0.0, phase="queued", error=None, job_id=None, symbol="BTC/USDT",
                strategy="ma_cross", params={"fast": 5}, metrics=None)
    return SimpleNamespace(**{**base, **kw})


def test_state_comes_from_the_row_the_job_keeps_current():
    from callbacks.backtests import _state_of

    assert _state_of(_row(status="running", progress=30.0, phase="simulating")) == ("running", 30.0, "simulating",
                                                                                     None)
    assert _state_of(_row(status="finished", progress=100.0, phase="done")) == ("finished", 100.0, "done", None)
    assert _state_of(_row(status="failed", phase="failed", error="ValueError: x")) == ("failed", 0.0, "failed",
                                                                                     "ValueError: x")


def test_cards_show_each_headline_metric_next_to_buy_and_hold():
    from callbacks.backtests import CARDS, _cards

    cards = _cards({"total_return": 0.125, "n_trades": 12, "sharpe": 1.5}, {"total_return": 0.05})
    text = str(cards)
    assert cards.id == "bt-metric-cards" and len(cards.children) == len(CARDS)
    assert "12.50%" in text and "B&H 5.00%" in text and "1.5000" in text and "—" in text  # missing -> dash


def test_batch_grid_has_a_row_per_run_with_formatted_metrics():
    from callbacks.backtests import _batch_grid

    grid = _batch_grid([_row(id=1, status="finished", metrics={"total_return": -0.02}), _row(id=2)])
    assert [r["id"] for r in grid.data] == [1, 2]
    assert grid.data[0]["total_return"] == "-2.00%" and grid.data[1]["total_return"] == "—"
    assert grid.data[0]["params"] == '{"fast": 5}'
