"""The Admin Models card after live predictions were scored: the live accuracy per version and the reliability
curve (walk-forward and live)."""
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.browser

TINY = {"lookback": 8, "units": 4, "epochs": 1, "batch_size": 64, "patience": 1}
LIVE_BARS = 40


@pytest.fixture
def scored_versions(browser_app):
    """v1 (champion, walk-forward evaluated) and v2 (challenger) on BTC/USDT 5m, each with stored predictions
    on the last bars, scored by the app's own scoring; removed afterwards so other tests see no models."""
    from sqlalchemy import delete

    from app.extensions import db
    from app.market import store
    from app.mlops import live
    from app.mlops.service import registry
    from app.models import Prediction
    from ml.config import TrainConfig
    from ml.evaluate import walk_forward
    from ml.registry import slug
    from ml.training import train

    server = browser_app.server
    settings = server.config["CW_SETTINGS"]
    reg = registry(settings)
    with server.app_context():
        conn = db.session.connection()
        candles = store.load_candles(conn, store.find_series(conn, "demo", "BTC/USDT", "5m"))
        history = candles.iloc[:-LIVE_BARS]
        evaluation = walk_forward(history, TrainConfig(**TINY), folds=1)
        assert not reg.versions("BTC/USDT", "5m"), "an earlier test left BTC/USDT 5m models behind"
        for seed in (0, 1):
            model = train(history, TrainConfig(**TINY, seed=seed))
            version = reg.save("BTC/USDT", "5m", model, walk_forward=evaluation.to_dict() if seed == 0 else None)
            frame = model.predict_frame(candles, start=candles.index[-LIVE_BARS])
            for t, row in frame.iterrows():
                db.session.add(Prediction(exchange="demo", symbol="BTC/USDT", timeframe="5m",
                                          bar_time=t.to_pydatetime(), model_version=version.version,
                                          p_up=None if row["ood"] else float(row["p_up"]),
                                          withheld="out of distribution" if row["ood"] else None,
                                          p_raw=float(row["p_raw"]), role="champion" if seed == 0 else "challenger"))
        reg.promote("BTC/USDT", "5m", 1)
        db.session.commit()
        live.score_pending(db.session, "demo", "BTC/USDT", ["5m"], datetime.now(timezone.utc) + timedelta(hours=1))
        expected = live.live_accuracy(db.session, "BTC/USDT", "5m", 1)
        db.session.commit()
    yield expected
    with server.app_context():
        db.session.execute(delete(Prediction).where(Prediction.symbol == "BTC/USDT", Prediction.timeframe == "5m"))
        db.session.commit()
    shutil.rmtree(Path(settings.model_dir) / slug("BTC/USDT") / "5m", ignore_errors=True)


def test_admin_models_card_shows_live_accuracy_and_the_reliability_curve(signed_in, scored_versions):
    expected = scored_versions
    assert 0 < expected["live_n"] <= LIVE_BARS - 1
    duo = signed_in("admin@example.com", path="/admin")
    duo.wait_for_contains_text("#admin-models-live", "live A/B", timeout=30)
    row = duo.find_element("#admin-live-BTC-USDT-5m-v1").text
    assert "champion" in row and f"{100 * expected['live_accuracy']:.1f}%" in row and str(expected["live_n"]) in row
    assert "challenger" in duo.find_element("#admin-live-BTC-USDT-5m-v2").text
    assert "Diebold-Mariano" in duo.find_element("#admin-live-BTC-USDT-5m").text
    duo.wait_for_element("#admin-reliability-BTC-USDT-5m .main-svg", timeout=20)
    legend = duo.find_element("#admin-reliability-BTC-USDT-5m").text
    assert "v1 walk-forward calibrated" in legend and "v1 live (champion)" in legend and "v2 live (challenger)" in legend
    assert np.isfinite(expected["live_accuracy"])
