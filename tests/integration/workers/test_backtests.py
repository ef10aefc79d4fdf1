"""Backtests end to end: seeded candles in PostgreSQL -> `backtests.run` / `backtests.batch` on real RQ workers
-> rows, trades and curves in PostgreSQL; progress in job.meta; owner-only downloads whose files parse back to
the stored numbers; bad requests rejected with messages and nothing enqueued."""
import io
import json
import math
import subprocess
import time

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from tests.conftest import login

pytestmark = pytest.mark.integration
PASSWORD = "correct-horse-battery"


def _setup(app):
    """Seed demo candles and two users; returns (owner id, other id)."""
    from app.auth.users import create_user
    from app.extensions import db
    from app.market.seed import seed_demo

    with app.app_context():
        seed_demo(db.session.connection(), app.config["CW_SETTINGS"])
        db.session.commit()
        owner = create_user("owner@example.com", PASSWORD).id
        other = create_user("other@example.com", PASSWORD).id
    return owner, other


def _form(**changes):
    form = {"symbols": ["BTC/USDT"], "timeframe": "15m", "start": "2000-01-01", "end": "2100-01-01",
            "strategy": "ma_cross", "params": {"fast": "5", "slow": "20"}, "fee_bps": 4, "slippage_bps": 2}
    form.update(changes)
    return form


def _watch(app, job_ids, timeout=120.0):
    """Poll the jobs until all are done; returns {job id: [(status, progress, phase), ...]}."""
    from workers.queues import fetch_job

    seen = {j: [] for j in job_ids}
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            jobs = {j: fetch_job(j) for j in job_ids}
            for j, job in jobs.items():
                if job is not None:
                    seen[j].append((job.status, job.meta.get("progress"), job.meta.get("phase")))
            if all(job is not None and job.done for job in jobs.values()):
                return seen, jobs
            time.sleep(0.02)
    raise AssertionError(f"jobs not done: { {j: s[-3:] for j, s in seen.items()} }")


def _row(app, backtest_id):
    from app.extensions import db
    from app.models import Backtest

    with app.app_context():
        row = db.session.get(Backtest, backtest_id)
        db.session.expunge(row)
        return row


def test_run_job_on_real_rq_worker_stores_results_with_progress(pg_app, rq_worker, fresh_pg_url):
    from app.api import downloads
    from app.backtest import results
    from app.backtest import submit as submission
    from workers import backtests as jobs
    from app.extensions import db

    owner, _ = _setup(pg_app)
    with pg_app.app_context():
        # walk-forward over a grid with the signal-score strategy: several phases worth watching
        sub = jobs.submit(db.session, owner, _form(
            strategy="score_threshold", params={"enter_long": "55, 60, 65, 70", "exit_long": "45, 50"},
            mode="walk_forward", train_bars=96, test_bars=48))
        assert sub.batch_id is None and sub.job_id == f"backtest-{sub.ids[0]}"
        queued = _row(pg_app, sub.ids[0])
        assert queued.status == "queued" and queued.user_id == owner
    worker = rq_worker("backtests", database_url=fresh_pg_url)
    seen, jobs = _watch(pg_app, [sub.job_id])
    job = jobs[sub.job_id]
    assert job.status == "finished", job.error
    progress = [p for _, p, _ in seen[sub.job_id] if p is not None]
    phases = {ph for _, _, ph in seen[sub.job_id]}
    assert progress == sorted(progress)  # monotonic
    assert any(0 < p < 100 for p in progress), seen[sub.job_id][:20]  # read back while running
    assert phases & {"loading candles", "scoring bars", "walk-forward", "storing results"}
    assert job.meta["progress"] == 100 and job.meta["phase"] == "done"
    assert worker.poll() is None

    row = _row(pg_app, sub.ids[0])
    assert row.status == "finished" and row.kind == "walk_forward" and row.error is None
    assert row.data_hash.startswith("xxh3_128:") and len(row.data_hash) == 41 and row.n_bars > 0
    assert row.data_start < row.data_end
    assert row.config["walk_forward"]["grid"]["enter_long"] == [55.0, 60.0, 65.0, 70.0]
    assert row.config["backtest"]["costs"]["taker_fee"] == pytest.approx(4e-4)
    windows = row.details["windows"]
    assert len(windows) >= 2 and all("out_of_sample_return" in w for w in windows)
    # the headline is the stitched out-of-sample span: it starts after the first training window
    assert row.data_start.isoformat() == windows[0]["test_start"]
    assert job.result["total_return"] == row.metrics["total_return"]
    with pg_app.app_context():
        n = db.session.execute(sa.text("SELECT count(*) FROM backtest_trades WHERE backtest_id = :i"),
                               {"i": row.id}).scalar_one()
    assert n >= row.metrics["n_trades"]
    # the stitched out-of-sample run renders as a tear sheet whose headline is the row's
    with pg_app.test_request_context():
        body, _, _ = downloads.render_report(db.session, owner, row.id, "tearsheet.html")
    page = body.decode()
    assert f'id="headline-total_return" data-metric="total_return" data-value="{row.metrics["total_return"]}"' in page
    assert f"{row.metrics['total_return'] * 100:.2f}%" in page and "Five worst drawdowns" in page


def test_downloads_are_owner_only_and_parse_back_to_the_stored_numbers(pg_app, rq_worker, fresh_pg_url):
    from app.api import downloads
    from app.backtest import results
    from app.backtest import submit as submission
    from workers import backtests as jobs
    from app.extensions import db

    owner, other = _setup(pg_app)
    with pg_app.app_context():
        sub = jobs.submit(db.session, owner, _form())
    rq_worker("backtests", burst=True, database_url=fresh_pg_url).wait(timeout=120)
    row = _row(pg_app, sub.ids[0])
    assert row.status == "finished", row.error
    assert row.metrics["n_trades"] > 0
    base = f"/backtests/{row.id}/download"

    anonymous = pg_app.test_client()
    assert anonymous.get(f"{base}/trades.csv").status_code == 302  # the guard sends strangers to /login

    intruder = pg_app.test_client()
    login(intruder, "other@example.com", PASSWORD)
    for name in downloads.REPORTS:
        assert intruder.get(f"{base}/{name}").status_code == 404
    assert intruder.get("/backtests/999999/download/trades.csv").status_code == 404

    client = pg_app.test_client()
    login(client, "owner@example.com", PASSWORD)
    assert client.get(f"{base}/nope.txt").status_code == 404
    files = {}
    for name in downloads.REPORTS:
        resp = client.get(f"{base}/{name}")
        assert resp.status_code == 200, name
        assert resp.headers["Content-Disposition"].startswith("attachment; filename=")
        assert name.split(".")[1] in resp.headers["Content-Disposition"]
        files[name] = resp.data

    with pg_app.app_context():
        stored = pd.read_sql(sa.text("SELECT * FROM backtest_trades WHERE backtest_id = :i ORDER BY seq"),
                             db.session.connection(), params={"i": row.id})
    trades = pd.read_csv(io.BytesIO(files["trades.csv"]))
    assert len(trades) == len(stored)
    assert set(trades["symbol"]) == {"BTC/USDT"}  # the run's symbol, not a placeholder name
    assert trades["pnl"].to_numpy() == pytest.approx(stored["pnl"].to_numpy(), rel=1e-12)
    assert list(trades["side"]) == list(stored["side"])
    assert pd.to_datetime(trades["entry_time"]).equals(pd.to_datetime(stored["entry_time"], utc=True))

    doc = json.loads(files["result.json"])
    for key, value in row.metrics.items():
        got = doc["metrics"]["strategy"][key]
        assert (got is None and value is None) or got == pytest.approx(value, rel=1e-12), key
    assert doc["metrics"]["buy_and_hold"]["total_return"] == pytest.approx(row.benchmark_metrics["total_return"])
    assert doc["data"]["data_hash"] == row.data_hash and doc["run"]["id"] == row.id

    book = openpyxl.load_workbook(io.BytesIO(files["report.xlsx"]), read_only=True)
    sheet = {r[0]: r[1:] for r in book["metrics"].iter_rows(values_only=True)}
    assert sheet["total_return"][0] == pytest.approx(row.metrics["total_return"], rel=1e-12)
    assert sheet["sharpe"][0] == pytest.approx(row.metrics["sharpe"], rel=1e-12)
    assert sheet["n_trades"][0] == row.metrics["n_trades"]
    assert book["trades"].max_row - 1 == len(stored)

    html = files["tearsheet.html"].decode()
    tr = row.metrics["total_return"]
    assert f"data-metric='total_return' data-column='strategy' data-value='{tr}'" in html
    assert f"{tr * 100:.2f}%" in html and row.data_hash in html

    # the PDF is the same report printed: its text shows the headline numbers of the page
    assert files["report.pdf"].startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=files["report.pdf"], capture_output=True,
                          check=True, timeout=60).stdout.decode()
    assert f"{tr * 100:.2f}%" in text and f"{row.metrics['sharpe']:.2f}" in text
    assert f"{row.metrics['max_drawdown'] * 100:.2f}%" in text and row.data_hash in text.replace("\n", "")


def test_batch_fans_out_one_job_per_combination(pg_app, rq_worker, fresh_pg_url):
    from app.api import downloads
    from app.backtest import results
    from app.backtest import submit as submission
    from workers import backtests as jobs
    from app.extensions import db

    owner, _ = _setup(pg_app)
    with pg_app.app_context():
        sub = jobs.submit(db.session, owner, _form(symbols=["BTC/USDT", "ETH/USDT"],
                                                      params={"fast": "5, 8", "slow": "20"}))
    assert sub.batch_id and len(sub.ids) == 4 and sub.job_id == f"backtest-batch-{sub.batch_id}"
    workers = [rq_worker("backtests", database_url=fresh_pg_url) for _ in range(2)]
    _, jobs = _watch(pg_app, [sub.job_id])
    assert jobs[sub.job_id].status == "finished", jobs[sub.job_id].error
    assert jobs[sub.job_id].result["jobs"] == [f"backtest-{i}" for i in sub.ids]
    _, runs = _watch(pg_app, jobs[sub.job_id].result["jobs"])
    assert all(j.status == "finished" for j in runs.values()), [j.error for j in runs.values()]
    rows = [_row(pg_app, i) for i in sub.ids]
    assert {r.batch_id for r in rows} == {sub.batch_id}
    assert {(r.symbol, r.params["fast"]) for r in rows} == {(s, f) for s in ("BTC/USDT", "ETH/USDT") for f in (5, 8)}
    assert all(r.status == "finished" and math.isfinite(r.metrics["total_return"]) for r in rows)
    # same data, same hash: the two BTC runs saw identical candles
    assert len({r.data_hash for r in rows if r.symbol == "BTC/USDT"}) == 1
    assert all(w.poll() is None for w in workers)


@pytest.mark.parametrize("changes, message", [
    ({"start": "2024-13-45"}, "is not a date"),
    ({"start": "2030-01-02", "end": "2030-01-01"}, "start date must be before the end date"),
    ({"symbols": ["DOGE/XYZ"]}, "Unknown symbol 'DOGE/XYZ'"),
    ({"params": {"fast": "1", "slow": "20"}}, "fast must be >= 2"),
    ({"params": {"fast": "30", "slow": "20"}}, "fast must be smaller than slow"),
    ({"timeframe": "1d"}, "Too few bars"),
    ({"strategy": "lstm", "params": {}}, "No champion LSTM model for BTC/USDT"),
    ({"fee_bps": "-3"}, "Fee (bps) must be between 0 and 1000"),
])
def test_bad_requests_are_rejected_and_nothing_is_enqueued(pg_app, changes, message):
    from rq import Queue

    from app.api import downloads

    from app.backtest import results

    from app.backtest import submit as submission

    from workers import backtests as jobs
    from app.backtest.requests import InvalidRequest
    from app.extensions import db
    from workers.queues import runner

    owner, _ = _setup(pg_app)
    with pg_app.app_context():
        with pytest.raises(InvalidRequest) as err:
            jobs.submit(db.session, owner, _form(**changes))
        assert any(message in e for e in err.value.errors), err.value.errors
        db.session.rollback()
        assert db.session.execute(sa.text("SELECT count(*) FROM backtests")).scalar_one() == 0
        assert Queue("backtests", connection=runner().connection).count == 0
