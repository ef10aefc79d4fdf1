"""app.figures.pdf: the tear sheet printed to PDF by headless Chromium; its text carries the headline numbers."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from app.backtest.config import BacktestConfig
from app.backtest.metrics import compute_metrics
from app.backtest.runner import buy_and_hold, run_strategy
from app.backtest.strategies import get_strategy
from app.figures import formatting as fmt
from app.figures.pdf import PdfError, html_to_pdf
from app.figures.tearsheet import tear_sheet_html
from tests.unit.backtest.backtest_candles import random_candles

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def pdf_text(pdf: bytes) -> str:
    """The PDF's text, by poppler's ``pdftotext``."""
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True,
                          timeout=60).stdout.decode("utf-8")


@pytest.fixture(scope="module")
def printed():
    candles = random_candles()
    config = BacktestConfig(stop_loss=0.03)
    result = run_strategy(candles, get_strategy("ma_cross", fast=5, slow=20), config)
    bench = buy_and_hold(candles, config)
    return result, bench, html_to_pdf(tear_sheet_html(result, bench), CHROMIUM)


def test_pdf_shows_the_headline_numbers_of_the_page(printed):
    result, bench, pdf = printed
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    m, b = compute_metrics(result), compute_metrics(bench)
    for key in ("total_return", "annual_return", "sharpe", "max_drawdown", "n_trades", "exposure"):
        assert fmt.metric(key, m[key]) in text, key
    assert f"buy & hold {fmt.pct(b['total_return'])}" in text
    assert "Five worst drawdowns" in text and "Full configuration" in text and "Formulas" in text
    assert result.data_hash in text.replace("\n", "")


def test_charts_are_drawn_before_printing(printed):
    _, _, pdf = printed
    text = pdf_text(pdf)
    # axis and title text exist only once plotly.js has drawn the SVG charts
    assert "Cumulative return against buy & hold" in text and "Rolling Sharpe ratio" in text
    assert "Distribution of trade returns" in text


def test_missing_browser_is_a_clear_error(tmp_path):
    with pytest.raises(PdfError, match="Chromium not found"):
        html_to_pdf("<p>x</p>", str(tmp_path / "no-chromium"))


def test_failing_browser_is_a_clear_error(tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'cannot start' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(PdfError, match=r"exit 3\): cannot start"):
        html_to_pdf("<p>x</p>", str(fake))


def test_browser_gets_no_secrets_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "do-not-leak-0123456789")
    seen = tmp_path / "env.txt"
    fake = tmp_path / "chromium"
    fake.write_text(f"#!/bin/sh\nenv > {seen}\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(PdfError):
        html_to_pdf("<p>x</p>", str(fake))
    env = seen.read_text()
    assert "do-not-leak" not in env and "HOME=" in env
