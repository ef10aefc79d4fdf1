"""app.figures.pdf: the tear sheet printed to PDF by headless Chromium; its text carries the headline numbers;
each failure says its cause (a full temporary disk as such) and leaves no temporary file behind."""
from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.backtest.config import BacktestConfig
from app.backtest.metrics import compute_metrics
from app.backtest.runner import buy_and_hold, run_strategy
from app.backtest.strategies import get_strategy
from app.figures import formatting as fmt
from app.figures.pdf import PdfError, PdfNoSpace, html_to_pdf
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


@pytest.fixture
def own_tmp(tmp_path, monkeypatch):
    """``tempfile``'s directory for this test, to see what a print leaves behind."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def test_failing_browser_names_no_cause_it_does_not_know(tmp_path, own_tmp):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'cannot start' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(PdfError) as info:
        html_to_pdf("<p>x</p>", str(fake))
    assert not isinstance(info.value, PdfNoSpace) and info.value.reason == "the browser that prints it failed"
    assert os.listdir(own_tmp) == []


def test_a_browser_that_cannot_write_the_pdf_for_lack_of_space_is_a_full_disk(tmp_path, own_tmp):
    """Chromium exits 0 when it cannot write the PDF; its log names ENOSPC."""
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'ERROR:headless_command_handler.cc(266)] Failed to write file "
                    "/tmp/x/report.pdf: No space left on device (28)' >&2\nexit 0\n")
    fake.chmod(0o755)
    with pytest.raises(PdfNoSpace, match=r"no space left in the temporary directory .*\(exit 0\)") as info:
        html_to_pdf("<p>x</p>", str(fake))
    assert info.value.reason == "the server's temporary disk is full (no space left on device)"
    assert os.listdir(own_tmp) == []


def test_a_failed_print_that_leaves_no_room_is_a_full_disk(tmp_path, own_tmp, monkeypatch):
    """A browser that fails without saying why, on a directory with (almost) no room left."""
    import app.figures.pdf as pdf

    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(pdf.shutil, "disk_usage", lambda path: SimpleNamespace(total=32768, used=32768, free=0))
    with pytest.raises(PdfNoSpace):
        html_to_pdf("<p>x</p>", str(fake))
    assert os.listdir(own_tmp) == []


def test_a_page_that_cannot_be_written_is_a_full_disk_and_leaves_nothing(tmp_path, own_tmp, monkeypatch):
    def full(self, *args, **kwargs):
        with open(self, "w") as fh:       # half the page, then the disk is full
            fh.write("<p>")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(PdfNoSpace, match="No space left on device") as info:
        html_to_pdf("<p>x</p>", CHROMIUM)
    assert "temporary disk is full" in info.value.reason
    assert os.listdir(own_tmp) == []      # the half-written page went with its private directory


def test_other_os_errors_are_not_called_a_full_disk(own_tmp, monkeypatch):
    def denied(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))

    monkeypatch.setattr(Path, "write_text", denied)
    with pytest.raises(PermissionError):
        html_to_pdf("<p>x</p>", CHROMIUM)


def test_a_print_past_its_time_says_so(tmp_path, own_tmp):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    with pytest.raises(PdfError, match="did not finish printing within 1 s") as info:
        html_to_pdf("<p>x</p>", str(fake), timeout_s=1)
    assert info.value.reason == "printing took longer than 1 s"
    assert os.listdir(own_tmp) == []
