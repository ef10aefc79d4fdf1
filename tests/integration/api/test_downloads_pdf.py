"""app.api.downloads: the PDF report's route (name, type, and a 503 naming the cause when Chromium cannot
print), on the site and the REST API alike."""
from __future__ import annotations

import logging

from app.api import downloads
from app.figures.pdf import PdfError, PdfNoSpace
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
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "30"
    assert resp.json["message"] == ("The PDF report could not be made: the browser that prints it failed. "
                                    "Nothing was kept; try again later, or download the HTML tear sheet.")
    assert "the PDF report could not be printed: Chromium could not print the report (exit 1): boom" in caplog.text
    assert seen["settings"] is app.config["CW_SETTINGS"]   # the route prints with the app's Chromium settings


def test_a_full_temporary_disk_is_named_as_the_cause(app, client, make_user, monkeypatch):
    make_user("owner@example.com")
    login(client, "owner@example.com")

    def full(session, user_id, backtest_id, name, settings=None):
        raise PdfNoSpace("no space left in the temporary directory '/tmp': No space left on device")

    monkeypatch.setattr(downloads, "render_report", full)
    resp = client.get("/backtests/1/download/report.pdf")
    assert resp.status_code == 503 and resp.json["service"] == "pdf"
    assert resp.json["message"].startswith("The PDF report could not be made: the server's temporary disk is full "
                                           "(no space left on device).")
    assert "/tmp" not in resp.get_data(as_text=True)   # the cause, not the server's paths


def test_the_api_answers_a_failed_print_with_a_problem_naming_the_cause(api_app, api, make_token, monkeypatch):
    from tests.integration.api.conftest import bearer

    token, _, _ = make_token()
    seen = {}

    def full(session, user_id, backtest_id, name, settings=None):
        seen["settings"] = settings
        raise PdfNoSpace("no space left in the temporary directory '/tmp': No space left on device")

    monkeypatch.setattr(downloads, "render_report", full)
    resp = api.get("/api/v1/backtests/1/reports/report.pdf", headers=bearer(token))
    assert resp.status_code == 503 and resp.mimetype == "application/problem+json"
    assert int(resp.headers["Retry-After"]) >= 30
    assert resp.json["detail"].startswith("The PDF report could not be made: the server's temporary disk is full")
    assert seen["settings"] is api_app.config["CW_SETTINGS"]   # CHROMIUM_BIN and PDF_TIMEOUT_S apply here too
