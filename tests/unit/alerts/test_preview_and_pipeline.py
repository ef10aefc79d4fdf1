"""The chart preview uses production's gate; alert evaluation is an explicit pipeline stage."""
import numpy as np

from app.alerts.gating import Gate
from app.alerts.preview import preview
from tests.unit.alerts.conftest import bars_from_close


def test_preview_marks_the_bars_the_rule_would_fire_on_within_the_window():
    b = bars_from_close([99, 101, 99, 101, 99, 101, 99, 101])  # crosses 100 up on bars 1, 3, 5, 7
    assert preview(b, "price_cross_up", {"level": 100.0}, Gate(frequency="every_time")) == [1, 3, 5, 7]
    assert preview(b, "price_cross_up", {"level": 100.0}, Gate(frequency="every_time"), last=4) == [5, 7]
    # a 3 h cooldown on 1 h bars skips the next crossing two bars later
    assert preview(b, "price_cross_up", {"level": 100.0}, Gate(frequency="every_time", cooldown_s=3 * 3600)) == [1, 5]
    assert preview(b, "price_cross_up", {"level": 100.0}, Gate(frequency="once")) == [1]
    assert preview(bars_from_close(np.array([])), "price_above", {"level": 1.0}, Gate()) == []


def test_alerts_are_evaluated_inside_the_analysis_job_before_predictions_and_enqueued_after_predictions(monkeypatch):
    import workers.alert_evaluation
    from workers import pipeline

    names = [name for name, _ in pipeline.AFTER_ANALYSIS]
    assert ("alerts", pipeline.evaluate_alerts) in pipeline.AFTER_ANALYSIS
    assert names.index("alerts") < names.index("ml_job")
    calls = []
    monkeypatch.setattr(pipeline, "enqueue", lambda queue, func, *a, **k: calls.append((queue, func, a)) or
                        type("J", (), {"id": "j1"})())
    from tests.conftest import make_settings

    settings = make_settings()
    assert pipeline.after_prediction("demo", "BTC/USDT", settings) == "j1"
    assert calls == [("alerts", "workers.alerts.evaluate", ("demo", "BTC/USDT"))]
    # after analysis: evaluated in the same job (no job enqueued) ...
    calls.clear()
    monkeypatch.setattr(workers.alert_evaluation, "evaluate_now", lambda ex, sym: {"symbol": sym, "rules": 3, "events": 1,
                                                                     "deliveries": 2})
    assert pipeline.evaluate_alerts("demo", "BTC/USDT", settings) == "evaluated: 3 rules, 1 events, 2 deliveries"
    assert calls == []

    # ... and a failing evaluation does not fail the analysis: it is enqueued as a job of its own
    def broken(ex, sym):
        raise RuntimeError("database went away")

    monkeypatch.setattr(workers.alert_evaluation, "evaluate_now", broken)
    assert pipeline.evaluate_alerts("demo", "BTC/USDT", settings) == "j1"
    assert calls == [("alerts", "workers.alerts.evaluate", ("demo", "BTC/USDT"))]
