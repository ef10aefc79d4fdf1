"""callbacks.signals: the per-timeframe breakdown cards."""


def test_breakdown_has_a_card_per_timeframe_with_signed_point_badges():
    from callbacks.signals import _breakdown

    snapshot = {"timeframes": {
        "1h": {"score": 70.0, "label": "buy", "confidence": 0.8, "share": 0.7, "weight": 1.5, "bar_time": "t",
               "reasons": [{"text": "RSI low", "points": 6.0}, {"text": "trend down", "points": -2.5}]},
        "1m": {"score": 50.0, "label": "neutral", "confidence": 0.3, "share": 0.3, "weight": 0.5, "bar_time": "t",
               "reasons": []}}}
    cards = _breakdown(snapshot)
    assert [c.id["index"] for c in cards] == ["1h", "1m"]  # strongest share first
    first = str(cards[0])
    assert "+6.0" in first and "-2.5" in first and "share 70%" in first and "'success'" in first
    assert "no evidence either way" in str(cards[1])
