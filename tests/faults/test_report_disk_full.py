"""The temporary disk that the PDF reports are printed on fills up (gunicorn's ``TMPDIR`` on a tiny tmpfs).

Reports are built on demand; their one disk write is the PDF, which headless Chromium prints inside a
private temporary directory (``app.figures.pdf``). With 32 KiB the page itself cannot be written; with room
for the page but not for the PDF Chromium fails to write it (and exits 0). Either way the site's download and
the REST API answer 503 with a message that says the disk is full (no bare 500, no traceback), nothing is
left in the temporary directory, and once there is room again the same request returns the PDF.
"""
from __future__ import annotations

import os
import subprocess

import pytest

from tests.faults.conftest import child_env, migrated, tiny_tmpfs

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]
PASSWORD = "correct-horse-battery"


@pytest.fixture
def full_tmp(tmp_path):
    """A 32 KiB tmpfs for TMPDIR, grown later with ``remount``."""
    with tiny_tmpfs(tmp_path / "tmp") as target:
        yield target


def _resize(target, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(target)], check=True, capture_output=True)


def _left(target) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, n), target) for d, dirs, files in os.walk(target)
                  for n in dirs + files)


def _assert_disk_full(resp, *, api: bool):
    assert resp.status_code == 503, (resp.status_code, resp.text[:500])
    # the API's Flask-Limiter raises Retry-After to its window's reset when that is later
    assert int(resp.headers["Retry-After"]) >= 30, resp.text[:500]
    assert "Traceback" not in resp.text and "Errno" not in resp.text
    doc = resp.json()
    message = doc["detail"] if api else doc["message"]
    assert resp.headers["Content-Type"].startswith("application/problem+json" if api else "application/json")
    assert message.startswith("The PDF report could not be made: the server's temporary disk is full "
                              "(no space left on device)."), message
    assert "Nothing was kept" in message and "/tmp" not in message  # the cause, not the server's paths


def test_a_full_temporary_disk_fails_the_pdf_clearly_leaves_nothing_and_recovers(full_tmp, fresh_pg_url, redis_url,
                                                                                 gunicorn):
    from app.auth.tokens import create_token
    from app.auth.users import create_user
    from app.backtest import execute
    from app.backtest.submit import create_runs
    from app.extensions import db
    from app.market.seed import seed_demo
    from app.models.user import User
    from tests.conftest import dispose

    server = migrated(fresh_pg_url, redis_url)
    with server.app_context():
        seed_demo(db.session.connection(), server.config["CW_SETTINGS"])
        db.session.commit()
        owner = create_user("pdf-fault@example.com", PASSWORD).id
        rows, _ = create_runs(db.session, owner, {
            "symbols": ["BTC/USDT"], "timeframe": "15m", "start": "2000-01-01", "end": "2100-01-01",
            "strategy": "ma_cross", "params": {"fast": "5", "slow": "20"}, "fee_bps": 4, "slippage_bps": 2})
        backtest_id = rows[0].id
        execute.execute(db.session, backtest_id)
        _, token = create_token(db.session, db.session.get(User, owner), "pdf", ["read"], 30)
        db.session.commit()
    dispose(server)

    web = gunicorn(child_env(redis_url, fresh_pg_url, TMPDIR=str(full_tmp)))
    browser = web.signed_in("pdf-fault@example.com", PASSWORD)
    site = f"{web.base}/backtests/{backtest_id}/download/report.pdf"
    api = f"{web.base}/api/v1/backtests/{backtest_id}/reports/report.pdf"
    bearer = {"Authorization": f"Bearer {token}"}
    assert _left(full_tmp) == []

    # 32 KiB: the page (several MB, plotly.js inlined) cannot even be written
    _assert_disk_full(browser.get(site, timeout=120), api=False)
    _assert_disk_full(browser.get(api, headers=bearer, timeout=120), api=True)
    assert _left(full_tmp) == []  # no half-written page left in place

    # room for the page, not for Chromium's profile and the PDF: Chromium fails to write (and exits 0)
    page = browser.get(f"{web.base}/backtests/{backtest_id}/download/tearsheet.html", timeout=120)
    assert page.status_code == 200
    _resize(full_tmp, f"{len(page.content) // 1024 + 200}k")
    _assert_disk_full(browser.get(site, timeout=120), api=False)
    assert _left(full_tmp) == []  # no half-written PDF or browser profile left either

    # with room again the same requests print the report; the directory is empty afterwards
    _resize(full_tmp, "256m")
    for url, headers in ((site, {}), (api, bearer)):
        resp = browser.get(url, headers=headers, timeout=120)
        assert resp.status_code == 200 and resp.content.startswith(b"%PDF-"), (resp.status_code, resp.text[:300])
        assert resp.headers["Content-Type"] == "application/pdf"
    assert _left(full_tmp) == []
