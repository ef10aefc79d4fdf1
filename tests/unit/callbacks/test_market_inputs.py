"""callbacks.inputs.MARKET_CHARTS / MARKET_LAYOUT: the trader chart's values from the browser, checked."""
import pytest

from app.validation import InvalidInput


def _chart_values(**change):
    base = {"symbol0": "BTC/USDT", "tf0": "1h", "tick": 3, "count": 2, "log": True}
    values = [base["symbol0"], base["tf0"], base["tick"], change.get("count", base["count"]), base["log"]]
    for k in range(4):
        if k:
            values += [None, None]
        values += [change.get("overlays", ["bb", "sma"]) if k == 0 else [], ["volume"], change.get("sma", 30), None,
                   change.get("view")]
    values += [change.get("seen"), None, None, None, change.get("src", {"backtest": 7})]
    return values


def test_values_come_back_checked_and_in_canonical_order(dash_app):
    from callbacks.inputs import MARKET_CHARTS

    v = MARKET_CHARTS(*_chart_values())
    assert v["count"] == 2 and v["log"] is True and v["trades"] == {"backtest": 7, "paper": None}
    assert v["charts"][0] == {"symbol": "BTC/USDT", "timeframe": "1h", "overlays": ["sma", "bb"], "panes": ["volume"],
                              "sma": 30, "ema": 50, "relayout": {}}
    assert v["charts"][1]["symbol"] is None and v["seen"] == [None] * 4


@pytest.mark.parametrize("change, message", [
    ({"count": 3}, "Charts must be one of 1, 2, 4"),
    ({"count": [4]}, "Charts must be a whole number"),
    ({"overlays": ["ichimoku"]}, "Overlays"),
    ({"overlays": "sma"}, "Overlays must be a list"),
    ({"sma": 1}, "SMA period"),
    ({"sma": 10 ** 9}, "SMA period"),
    ({"view": [1]}, "Chart view must be a mapping"),
    ({"seen": "x"}, "Chart state must be a mapping"),
    ({"src": {"backtest": "1; drop"}}, "Backtest"),
])
def test_bad_values_name_the_field(dash_app, change, message):
    from callbacks.inputs import MARKET_CHARTS

    with pytest.raises(InvalidInput) as err:
        MARKET_CHARTS(*_chart_values(**change))
    assert message in err.value.message


def test_layout_values_make_a_layout_document(dash_app):
    from app.market.charts.layouts import check_layout
    from callbacks.inputs import MARKET_LAYOUT

    values = [4, True, False]
    for k in range(4):
        values += ["ETH/USDT" if k == 3 else None, "15m" if k == 3 else None, ["vwap"], ["rsi", "macd"], None, 9]
    lay = MARKET_LAYOUT(*values)
    assert check_layout(lay) == lay and lay["count"] == 4 and lay["charts"][3]["symbol"] == "ETH/USDT"
    assert lay["charts"][0]["ema"] == 9 and lay["charts"][0]["sma"] == 20 and lay["charts"][2]["panes"] == ["rsi", "macd"]
    values[1] = "yes"
    with pytest.raises(InvalidInput, match="Linked crosshair"):
        MARKET_LAYOUT(*values)
