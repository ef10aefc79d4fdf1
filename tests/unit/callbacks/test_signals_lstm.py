"""callbacks.signals: the LSTM card shows p(up) with its spread, the reason when withheld, and live accuracy."""
from datetime import datetime, timezone


def _row(**kw):
    base = {"timeframe": "1h", "version": 2, "bar_time": datetime(2026, 1, 1, tzinfo=timezone.utc), "p_up": 0.5612,
            "oos_n": 300, "oos_accuracy": 0.51, "base_rate_accuracy": 0.5, "persistence_accuracy": 0.49,
            "beats_baselines": False, "spread": 0.0234, "withheld": None, "live_n": 40, "live_accuracy": 0.525}
    return base | kw


def test_p_up_comes_with_its_spread_and_the_live_record():
    from callbacks.signals import _lstm_card

    card = str(_lstm_card("BTC/USDT", [_row()]))
    assert "0.561 ± 0.023" in card and "52.5% on 40 bars" in card and "live accuracy" in card


def test_a_withheld_prediction_shows_the_reason_instead_of_a_number():
    from callbacks.signals import _lstm_card

    why = "input out of the training distribution: vol_20 at 2026-01-01T00:00:00+00:00 is +9.00 standard deviations"
    card = str(_lstm_card("BTC/USDT", [_row(p_up=None, spread=None, withheld=why, live_n=0, live_accuracy=None)]))
    assert "withheld" in card and why in card and "0.561" not in card and "— on 0 bars" in card
