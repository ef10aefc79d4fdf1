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


def test_alerts_are_a_stage_after_analysis_before_predictions_and_after_predictions(monkeypatch):
    from workers import pipeline

    names = [name for name, _ in pipeline.AFTER_ANALYSIS]
    assert ("alerts_job", pipeline.enqueue_alerts) in pipeline.AFTER_ANALYSIS
    assert names.index("alerts_job") < names.index("ml_job")
    calls = []
    monkeypatch.setattr(pipeline, "enqueue", lambda queue, func, *a, **k: calls.append((queue, func, a)) or
                        type("J", (), {"id": "j1"})())
    from tests.conftest import make_settings

    assert pipeline.after_prediction("demo", "BTC/USDT", make_settings()) == "j1"
    assert calls == [("alerts", "workers.alerts.evaluate", ("demo", "BTC/USDT"))]
