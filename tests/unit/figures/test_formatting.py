"""app.figures.formatting: report units against hand-written strings."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from app.backtest.metrics import METRIC_LABELS
from app.figures import formatting as fmt


def test_percent_bps_money_ratio():
    assert fmt.pct(0.1234) == "12.34%"
    assert fmt.pct(-0.05, signed=True) == "-5.00%" and fmt.pct(0.05, 1, signed=True) == "+5.0%"
    assert fmt.fraction_bps(0.0004) == "4.0 bps" and fmt.bps(2) == "2.0 bps"
    assert fmt.money(-1234.5) == "-1,234.50"
    assert fmt.ratio(1.23456) == "1.23"
    assert fmt.pct(None) == fmt.ratio(math.nan) == "—"
    assert fmt.ratio(math.inf) == "∞" and fmt.ratio(-math.inf) == "-∞"


@pytest.mark.parametrize("days, text", [
    (80.8333, "80 days 20 hours"), (1.0, "1 day"), (2 + 1 / 24, "2 days 1 hour"), (0.25, "6 hours"),
    (1 / 24, "1 hour"), (1 / 48, "30 minutes"), (0.0, "0 minutes"), (23.99 / 24, "1 day"),
])
def test_durations_in_days_and_hours(days, text):
    assert fmt.duration(days) == text


def test_negative_duration_is_refused():
    with pytest.raises(ValueError, match="cannot be negative"):
        fmt.duration(-1)


def test_timestamps_in_utc_without_offset():
    assert fmt.timestamp(pd.Timestamp("2024-01-25 23:00", tz="UTC")) == "2024-01-25 23:00"
    assert fmt.timestamp(pd.Timestamp("2024-01-26 00:30", tz="Europe/Berlin")) == "2024-01-25 23:30"
    assert fmt.timestamp(pd.Timestamp("2024-01-25 23:00", tz="UTC"), intraday=False) == "2024-01-25"
    assert fmt.timestamp(pd.NaT) == fmt.timestamp(None) == "—"


def test_metrics_in_their_units():
    assert fmt.metric("total_return", 0.5) == "50.00%"
    assert fmt.metric("best_trade_pct", 11.92) == "11.92%"   # trade returns are stored in percent
    assert fmt.metric("avg_holding_days", 0.5) == "12 hours"
    assert fmt.metric("n_trades", 1234) == "1,234"
    assert fmt.metric("sharpe", 0.934) == "0.93"
    assert fmt.metric("final_equity", 10297.49) == "10,297.49"
    assert fmt.metric("annual_return", math.nan) == "—"
    assert set(fmt.METRIC_KINDS) <= set(METRIC_LABELS)
    assert "(days)" not in fmt.metric_label("max_drawdown_duration_days", METRIC_LABELS)


def test_month_names_and_config_rows():
    assert fmt.MONTHS[0] == "Jan" and fmt.MONTHS[-1] == "Dec" and len(fmt.MONTHS) == 12
    assert fmt.config_row("costs.taker_fee", 0.0004) == ("Taker fee (market orders)", "4.0 bps")
    assert fmt.config_row("stop_loss", 0.03) == ("Stop-loss", "3.00%")
    assert fmt.config_row("take_profit", None) == ("Take-profit", "off")
    assert fmt.config_row("allow_short", True) == ("Shorts allowed", "yes")
    assert fmt.config_row("costs.funding_interval_hours", 8) == ("Funding interval", "8 hours")
    assert fmt.config_row("periods_per_year", None) == ("Periods per year (annualisation)", "from the bar length")
    assert fmt.config_row("data.n_bars", 600) == ("Bars", "600")
    assert fmt.config_row("data.start", "2024-01-01T00:00:00+00:00") == ("First bar opens (UTC)", "2024-01-01 00:00")
    assert fmt.config_row("extra.knob", 7) == ("extra.knob", "7")  # unknown keys keep their name
