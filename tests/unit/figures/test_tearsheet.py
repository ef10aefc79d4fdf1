"""app.figures.tearsheet: the self-contained HTML tear sheet of a backtest."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from app.backtest.config import BacktestConfig
from app.backtest.metrics import compute_metrics
from app.backtest.runner import buy_and_hold, run_strategy
from app.backtest.strategies import get_strategy
from app.figures.tearsheet import tear_sheet_html
from tests.unit.backtest.backtest_candles import random_candles


@pytest.fixture
def pair():
    candles = random_candles()
    config = BacktestConfig(stop_loss=0.03)
    return run_strategy(candles, get_strategy("ma_cross", fast=5, slow=20), config), buy_and_hold(candles, config)


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.values, self.scripts, self.external = {}, 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and "data-metric" in a:
            self.values[(a["data-metric"], a["data-column"])] = a["data-value"]
        if tag == "script":
            self.scripts += 1
            if a.get("src"):
                self.external.append(a["src"])
        if tag == "link" and a.get("href", "").startswith("http"):
            self.external.append(a["href"])


def test_html_tear_sheet_is_self_contained_and_shows_the_metrics(pair):
    result, bench = pair
    page = tear_sheet_html(result, bench)
    parser = _Cells()
    parser.feed(page)
    assert parser.external == []                          # nothing loaded from elsewhere
    assert "plotly.js v" in page or re.search(r"plotly\.js.*v\d", page[:400_000])
    assert len(page) > 1_000_000                          # plotly.js is inlined (megabytes)
    m = compute_metrics(result)
    assert float(parser.values[("sharpe", "strategy")]) == pytest.approx(m["sharpe"])
    assert float(parser.values[("final_equity", "buy_and_hold")]) == pytest.approx(bench.final_equity)
    assert result.data_hash in page and "taker_fee" in page
    assert "Equity" in page and "Drawdown" in page
