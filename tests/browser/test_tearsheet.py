"""The HTML tear sheet opened from disk in headless Chromium, network off: headline block, charts, log scale."""
from __future__ import annotations

import time

import pytest

from app.backtest.config import BacktestConfig
from app.backtest.metrics import compute_metrics
from app.backtest.runner import buy_and_hold, run_strategy
from app.backtest.strategies import get_strategy
from app.figures import formatting as fmt
from app.figures.tearsheet import HEADLINE, tear_sheet_html
from tests.unit.backtest.backtest_candles import random_candles

pytestmark = pytest.mark.browser


def _wait(predicate, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the tear sheet")


def test_tear_sheet_opens_offline_with_the_headline_block(dash_duo, tmp_path):
    candles = random_candles()
    config = BacktestConfig(stop_loss=0.03)
    result = run_strategy(candles, get_strategy("ma_cross", fast=5, slow=20), config)
    bench = buy_and_hold(candles, config)
    path = tmp_path / "tearsheet.html"
    path.write_text(tear_sheet_html(result, bench), encoding="utf-8")

    driver = dash_duo.driver
    driver.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
    driver.get(path.as_uri())

    cards = _wait(lambda: driver.find_elements("css selector", "#headline .kpi"))
    assert [c.get_attribute("data-metric") for c in cards] == list(HEADLINE)
    m = compute_metrics(result)
    shown = {c.get_attribute("data-metric"): c.find_element("css selector", ".value").text for c in cards}
    assert shown == {k: fmt.metric(k, m[k]) for k in HEADLINE}
    # the headline block is the first thing on the page, above every chart
    top = driver.execute_script("return document.getElementById('headline').getBoundingClientRect().top")
    chart_top = driver.execute_script(
        "return document.getElementById('chart-cumulative').getBoundingClientRect().top")
    assert top < chart_top

    # plotly.js (inlined) drew every chart with the network off, and nothing came from elsewhere
    for chart in ("chart-cumulative", "chart-underwater", "chart-rolling", "chart-trade-returns"):
        _wait(lambda: driver.find_elements("css selector", f"#{chart} .main-svg"))
    assert len(driver.find_elements("css selector", "#chart-cumulative g.trace.scatter")) == 2
    sources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(s.startswith(("file:", "data:", "blob:")) for s in sources), sources

    # the log-scale option of the cumulative return
    buttons = driver.find_elements("css selector", "#chart-cumulative g.updatemenu-button")
    assert [b.text for b in buttons] == ["Linear", "Log"]
    buttons[1].click()
    _wait(lambda: driver.execute_script(
        "return document.getElementById('chart-cumulative').layout.yaxis.type") == "log")
