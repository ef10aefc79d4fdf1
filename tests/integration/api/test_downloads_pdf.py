"""app.api.downloads: the PDF report's route (name, type, and a 503 when Chromium cannot print)."""
from __future__ import annotations

import logging

from app.api import downloads
from app.figures.pdf import PdfError
from tests.conftest import login


def test_pdf_is_listed_next_to_the_other_reports():
    assert downloads.REPORTS["report.pdf"] == ("application/pdf", "report.pdf")
    assert downloads.download_url(7, "report.pdf") == "/backtests/7/download/report.pdf"


def test_a_failed_print_is_a_503_and_logged(app, client, make_user, monkeypatch, caplog):
    make_user("owner@example.com")
    login(client, "owner@example.com")
    seen = {}

    def broken(session, user_id, backtest_id, name, settings=None):
        seen["settings"] = settings
        raise PdfError("Chromium could not print the report (exit 1): boom")

    monkeypatch.setattr(downloads, "render_report", broken)
    with caplog.at_level(logging.ERROR, logger="app.api.downloads"):
        resp = client.get("/backtests/1/download/report.pdf")
    assert resp.status_code == 503
    assert "the PDF report could not be printed" in caplog.text
    assert seen["settings"] is app.config["CW_SETTINGS"]   # the route prints with the app's Chromium settings
