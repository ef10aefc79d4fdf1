"""workers.pipeline: which stage follows which."""
from tests.conftest import make_settings


def test_no_new_closed_bars_means_no_analysis():
    from workers.pipeline import after_ingest

    assert after_ingest("demo", "BTC/USDT", "1m", 0, make_settings()) is None  # nothing enqueued, no runner needed


def test_after_analysis_runs_every_listed_stage_in_order(monkeypatch):
    from workers import pipeline

    calls = []
    monkeypatch.setattr(pipeline, "AFTER_ANALYSIS", (
        ("first_job", lambda ex, sym, s: calls.append(("first", ex, sym)) or "j1"),
        ("second_job", lambda ex, sym, s: calls.append(("second", ex, sym)) or None),
    ))
    assert pipeline.after_analysis("demo", "ETH/USDT", make_settings()) == {"first_job": "j1", "second_job": None}
    assert calls == [("first", "demo", "ETH/USDT"), ("second", "demo", "ETH/USDT")]


def test_predictions_are_a_stage_after_analysis():
    from workers import pipeline

    assert ("ml_job", pipeline.enqueue_prediction) in pipeline.AFTER_ANALYSIS
