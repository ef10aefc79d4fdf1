"""app.figures.tearsheet: the self-contained, print-friendly HTML tear sheet of a backtest."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from app.backtest.config import BacktestConfig
from app.backtest.drawdowns import worst_drawdowns
from app.backtest.metrics import CONVENTIONS, compute_metrics
from app.backtest.runner import buy_and_hold, run_strategy
from app.backtest.strategies import get_strategy
from app.figures import formatting as fmt
from app.figures.tearsheet import HEADLINE, tear_sheet_html
from tests.unit.backtest.backtest_candles import random_candles


@pytest.fixture(scope="module")
def pair():
    candles = random_candles()
    config = BacktestConfig(stop_loss=0.03)
    return run_strategy(candles, get_strategy("ma_cross", fast=5, slow=20), config), buy_and_hold(candles, config)


@pytest.fixture(scope="module")
def page(pair):
    return tear_sheet_html(*pair)


class _Page(HTMLParser):
    """Metric cells, headline cards, scripts, external references, the visible text and each table's rows."""

    def __init__(self):
        super().__init__()
        self.values, self.headline, self.scripts, self.external = {}, {}, 0, []
        self.text, self.tables, self.order = [], {}, []
        self._in_script, self._table, self._row, self._cell = False, None, None, None
        self._kpi = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.order.append(a["id"])
        if tag == "td" and "data-metric" in a:
            self.values[(a["data-metric"], a["data-column"])] = a["data-value"]
        if tag == "div" and a.get("class") == "kpi":
            self._kpi = a["data-metric"]
            self.headline[self._kpi] = {"raw": a["data-value"], "text": ""}
        if tag == "div" and a.get("class") == "value" and self._kpi:
            self._cell = "kpi"
        if tag == "script":
            self.scripts += 1
            self._in_script = True
            if a.get("src"):
                self.external.append(a["src"])
        if tag in ("link", "img", "iframe") and (a.get("href") or a.get("src") or "").startswith(("http", "//")):
            self.external.append(a.get("href") or a.get("src"))
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table] = []
        if tag == "tr" and self._table is not None:
            self._row = []
            self.tables[self._table].append(self._row)
        if tag in ("td", "th") and self._row is not None:
            self._row.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        if tag == "table":
            self._table, self._row = None, None
        if tag == "div" and self._cell == "kpi":
            self._cell, self._kpi = None, None

    def handle_data(self, data):
        if self._in_script:
            return
        self.text.append(data)
        if self._cell == "kpi":
            self.headline[self._kpi]["text"] += data.strip()
        if self._row:
            self._row[-1] += data


def _parse(page):
    p = _Page()
    p.feed(page)
    p.tables = {k: [[c.strip() for c in row] for row in rows] for k, rows in p.tables.items()}
    return p


def test_self_contained_offline(page):
    p = _parse(page)
    assert p.external == []                               # nothing loaded from elsewhere
    assert re.search(r"plotly\.js v\d", page[:400_000])
    assert len(page) > 1_000_000                          # plotly.js is inlined (megabytes)
    for chart in ("chart-cumulative", "chart-underwater", "chart-rolling", "chart-trade-returns"):
        assert f'id="{chart}"' in page


def test_headline_block_comes_first_with_the_numbers(page, pair):
    result, bench = pair
    p = _parse(page)
    m, b = compute_metrics(result), compute_metrics(bench)
    assert list(p.headline) == list(HEADLINE)
    assert p.order.index("headline") < p.order.index("chart-cumulative") < p.order.index("metrics")
    assert p.headline["total_return"]["text"] == f"{m['total_return'] * 100:.2f}%"
    assert p.headline["sharpe"]["text"] == f"{m['sharpe']:.2f}"
    assert p.headline["max_drawdown"]["text"] == f"{m['max_drawdown'] * 100:.2f}%"
    assert p.headline["n_trades"]["text"] == str(m["n_trades"])
    assert p.headline["exposure"]["text"] == f"{m['exposure'] * 100:.2f}%"
    assert float(p.headline["annual_return"]["raw"]) == pytest.approx(m["annual_return"])
    assert f"buy & hold {b['total_return'] * 100:.2f}%" in page.replace("&amp;", "&")
    assert f"excess {(m['total_return'] - b['total_return']) * 100:+.2f}%" in page


def test_metric_cells_carry_the_exact_values(page, pair):
    result, bench = pair
    p = _parse(page)
    m = compute_metrics(result)
    assert float(p.values[("sharpe", "strategy")]) == pytest.approx(m["sharpe"])
    assert float(p.values[("final_equity", "buy_and_hold")]) == pytest.approx(bench.final_equity)
    assert {k for k, _ in p.values} == set(m)


def test_human_units_no_raw_keys_or_offsets(page, pair):
    result, _ = pair
    text = " ".join(_parse(page).text)
    assert "+00:00" not in text and "T00:00:00" not in text            # dates without offsets
    assert re.search(r"\b80\.8333\b", text) is None
    assert "Taker fee (market orders)" in text and "4.0 bps" in text   # fees in bps, with a label
    assert "costs.maker_fee 0.0004" not in text
    m = compute_metrics(result)
    assert fmt.duration(m["avg_holding_days"]) in text                 # "13 hours", not 0.54 days
    assert result.data_hash in text


def test_monthly_table_has_month_names_and_a_year_total(page):
    rows = _parse(page).tables["monthly"]
    assert [c.strip() for c in rows[0]] == ["Year", *fmt.MONTHS, "Year"]
    assert rows[1][0].strip() == "2024" and rows[1][1].strip().endswith("%")  # January 2024 has data
    assert rows[1][-1].strip() == rows[1][1].strip()                         # one month: the year is that month


def test_five_worst_drawdowns_table(page, pair):
    result, _ = pair
    rows = _parse(page).tables["drawdowns"]
    expected = worst_drawdowns(result.equity, 5)
    assert [c.strip() for c in rows[0]] == ["#", "Start (peak)", "Trough", "Recovery", "Depth", "Length"]
    assert len(rows) - 1 == len(expected) == 5
    first = expected.iloc[0]
    assert rows[1][1] == fmt.timestamp(first["start"]) and rows[1][4] == fmt.pct(first["depth"])
    assert rows[1][5] == fmt.duration(first["length_days"])
    assert fmt.pct(first["depth"]) == f"{compute_metrics(result)['max_drawdown'] * 100:.2f}%"


def test_assumptions_formulas_and_full_configuration(page, pair):
    result, _ = pair
    p = _parse(page)
    text = " ".join(p.text)
    assert result.assumptions["fills"] in text and result.assumptions["entry"]["rule"] in text
    formulas = {r[0]: r[1] for r in p.tables["formulas"]}
    assert formulas["Sharpe (arithmetic)"] == CONVENTIONS["sharpe"]["arithmetic"]
    assert formulas["Sortino (arithmetic)"] == CONVENTIONS["sortino"]["arithmetic"]
    assert formulas["Calmar"] == CONVENTIONS["calmar"] and formulas["CAGR"] == CONVENTIONS["cagr"]
    keys = [r[2] for r in p.tables["config"][1:]]
    assert {"costs.taker_fee", "initial_cash", "stop_loss", "data.data_hash", "strategy"} <= set(keys)
    assert len(keys) == len(result.config) - 1 + len(result.config["costs"]) + 7  # every entry, flattened


def test_geometric_convention_is_named_on_the_sheet():
    candles = random_candles()
    result = run_strategy(candles, get_strategy("ma_cross", fast=5, slow=20), BacktestConfig(sharpe="geometric"))
    formulas = {r[0]: r[1] for r in _parse(tear_sheet_html(result)).tables["formulas"]}
    assert formulas["Sharpe (geometric)"] == CONVENTIONS["sharpe"]["geometric"]


def test_readme_metric_definitions_match_the_code():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Metric definitions", 1)[1].split("\n## ", 1)[0]
    for key, formula in CONVENTIONS.items():
        for text in (formula.values() if isinstance(formula, dict) else [formula]):
            if isinstance(text, str):
                assert f"`{text}`" in section, key


def test_a_ruined_short_says_so_and_shows_the_liquidation():
    from app.backtest.config import Costs
    from app.backtest.engine import run_backtest
    from tests.unit.backtest.backtest_candles import make_candles

    opens = [100, 100, 100, 130, 170, 210, 250, 250]
    c = make_candles(opens, highs=[100, 100, 101, 140, 180, 220, 260, 260],
                     lows=[100, 100, 99, 128, 168, 208, 248, 248], freq="1D")
    r = run_backtest(c, [-1] * 8, BacktestConfig(initial_cash=1000.0,
                                                 costs=Costs(maker_fee=0.0, taker_fee=0.0, slippage_bps=0.0)))
    assert r.ruin is not None
    p = _parse(tear_sheet_html(r))
    text = " ".join(p.text)
    assert "The account was liquidated during this run" in text
    assert f"liquidated at {fmt.timestamp(r.ruin['time'])} UTC" in text
    assert p.headline["total_return"]["text"] == "-100.00%" and p.headline["max_drawdown"]["text"] == "-100.00%"
    rows = p.tables["drawdowns"]
    assert rows[1][3] == "not recovered" and rows[1][4] == "-100.00%"
    assert "buy & hold" not in [c for c in p.tables["metrics"][0]]     # no benchmark column without one


def test_a_run_without_trades_or_drawdowns_still_renders():
    from app.backtest.engine import run_backtest
    from tests.unit.backtest.backtest_candles import make_candles

    c = make_candles([100 + i for i in range(48)], freq="1h")
    p = _parse(tear_sheet_html(run_backtest(c, [0] * 48)))
    text = " ".join(p.text)
    assert "No closed trades" in text and "The equity never fell below a previous peak" in text
    assert p.headline["n_trades"]["text"] == "0" and p.headline["exposure"]["text"] == "0.00%"


def test_a_multi_year_daily_run_has_a_row_per_year_with_its_total():
    daily = random_candles(800, seed=5, freq="1D", start="2021-03-15")
    r = run_strategy(daily, get_strategy("ma_cross", fast=5, slow=20), BacktestConfig())
    p = _parse(tear_sheet_html(r))
    monthly = p.tables["monthly"]
    assert [row[0] for row in monthly[1:]] == ["2021", "2022", "2023"]
    assert monthly[1][1] == "" and monthly[1][3].endswith("%")        # Jan 2021 before the data, Mar 2021 in it
    assert all(row[-1].endswith("%") for row in monthly[1:])
    # daily bars: dates without times in the drawdown table
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.tables["drawdowns"][1][1])
