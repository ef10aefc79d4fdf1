"""app.market.charts.layouts: the saved-layout schema, its fallbacks and the shareable URL form."""
import copy
import json

import pytest

from app.market.charts import layouts


def _good():
    lay = layouts.default_layout()
    lay["count"] = 4
    lay["link"] = True
    lay["charts"][1].update(symbol="ETH/USDT", timeframe="15m", overlays=["bb", "sma"], panes=["rsi", "volume"],
                            sma=30)
    return lay


def test_a_valid_layout_is_kept_in_canonical_order():
    lay, msg = layouts.parse_layout(_good())
    assert msg is None and lay["count"] == 4 and lay["link"] is True
    assert lay["charts"][1]["overlays"] == ["sma", "bb"] and lay["charts"][1]["panes"] == ["volume", "rsi"]
    assert lay["charts"][1]["sma"] == 30 and lay["charts"][0] == layouts.default_chart()


def test_nothing_saved_gives_the_defaults_without_a_message():
    assert layouts.parse_layout(None) == (layouts.default_layout(), None)


@pytest.mark.parametrize("change, field", [
    (lambda d: d.update(v=0), "version 0"),
    (lambda d: d.pop("v"), "version None"),
    (lambda d: d.update(count=3), "count"),
    (lambda d: d.update(count=True), "count"),
    (lambda d: d.update(link="yes"), "link"),
    (lambda d: d.update(extra=1), "unknown fields: extra"),
    (lambda d: d["charts"].pop(), "charts must be a list of 4"),
    (lambda d: d["charts"][2].update(overlays=["ichimoku"]), "chart 3 overlays: unknown choice 'ichimoku'"),
    (lambda d: d["charts"][0].update(panes="rsi"), "chart 1 panes must be a list"),
    (lambda d: d["charts"][1].update(sma=1), "chart 2 SMA period must be a whole number from 2 to 400"),
    (lambda d: d["charts"][1].update(ema=10 ** 9), "chart 2 EMA period"),
    (lambda d: d["charts"][1].update(ema=20.5), "chart 2 EMA period"),
    (lambda d: d["charts"][3].update(symbol="<script>"), "chart 4 symbol is not a valid value"),
    (lambda d: d["charts"][3].pop("sma"), "chart 4 must have exactly the fields"),
])
def test_a_bad_or_older_layout_falls_back_to_the_defaults_with_a_message_naming_the_field(change, field):
    raw = _good()
    change(raw)
    lay, msg = layouts.parse_layout(raw)
    assert lay == layouts.default_layout()
    assert msg and field in msg and "default layout" in msg


def test_text_that_is_not_json_or_not_a_mapping_falls_back():
    assert layouts.parse_layout("{nope")[1].startswith("The saved chart layout could not be read")
    assert "must be a mapping" in layouts.parse_layout("[1, 2]")[1]


def test_url_form_round_trips_and_bad_links_fall_back():
    lay = layouts.check_layout(_good())
    param = layouts.to_url(lay)
    assert set(param) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert layouts.from_url(param) == (lay, None)
    for bad in ("", "!!!", "x" * (layouts.URL_MAX + 1), None, "bm90IGpzb24"):
        back, msg = layouts.from_url(bad)
        assert back == layouts.default_layout() and msg


def test_url_of_an_invalid_layout_is_refused():
    raw = _good()
    raw["count"] = 3
    with pytest.raises(layouts.LayoutError, match="count"):
        layouts.to_url(raw)


def test_with_series_sets_one_chart_and_leaves_the_input_alone():
    lay = layouts.default_layout()
    before = copy.deepcopy(lay)
    out = layouts.with_series(lay, 0, "BTC/USDT", "1h")
    assert out["charts"][0]["symbol"] == "BTC/USDT" and out["charts"][0]["timeframe"] == "1h"
    assert lay == before
    assert layouts.with_series(lay, 0, None, None) == before
    with pytest.raises(layouts.LayoutError, match="symbol"):
        layouts.with_series(lay, 0, "no such thing", None)


def test_chart_spec_names_the_field():
    with pytest.raises(layouts.LayoutError, match="chart overlays"):
        layouts.chart_spec(None, None, ["x"], [], 20, 50)
    assert json.dumps(layouts.chart_spec("A/B", "1m", ["vwap", "sma"], [], 2, 400))
