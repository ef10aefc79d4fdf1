"""Alerts page in headless Chromium: create a rule in the UI, an ingested bar fires it through the
pipeline (analysis -> alerts, in-process jobs), and the toast, the navbar badge and the history row appear."""
import pytest

pytestmark = pytest.mark.browser


def _select(duo, css, value):
    from selenium.webdriver.support.ui import Select

    Select(duo.find_element(css)).select_by_value(value)


def _type(duo, css, text):
    el = duo.find_element(css)
    el.clear()
    el.send_keys(text)


def _latest_1m(app):
    from app.extensions import db
    from app.market import store

    with app.server.app_context():
        sid = store.find_series(db.session, "demo", "BTC/USDT", "1m")
        candles = store.load_candles(db.session, sid, limit=2)
        db.session.commit()
    return sid, candles


def test_a_rule_made_in_the_ui_fires_on_an_ingested_bar(signed_in, browser_app):
    duo = signed_in("trader@example.com", path="/alerts")
    duo.wait_for_element("#al-save", timeout=30)
    sid, last_two = _latest_1m(browser_app)
    level = round(float(last_two["close"].max()) * 1.2, 2)
    _type(duo, "#al-name", "UI breakout")
    _select(duo, "#al-symbol", "BTC/USDT")
    _select(duo, "#al-timeframe", "1m")
    duo.wait_for_element("#al-params input", timeout=10)
    _type(duo, "#al-params input", str(level))
    duo.driver.execute_script("arguments[0].click()", duo.find_element("#al-save"))
    duo.wait_for_contains_text("#al-saved", "Saved rule", timeout=20)
    duo.wait_for_contains_text("#al-rules", "UI breakout", timeout=20)
    # an ingested bar: the latest closed 1m bar is re-stored with a close above the level
    from app.extensions import db
    from app.market import store
    from workers.queues import enqueue

    bar = last_two.iloc[[-1]].copy()
    bar[["open", "high", "low", "close"]] = [level * 1.05, level * 1.11, level * 1.04, level * 1.1]
    with browser_app.server.app_context():
        store.upsert_candles(db.session, sid, bar)
        db.session.commit()
        enqueue("analysis", "workers.analysis.analyze", "demo", "BTC/USDT")  # hands on to alerts.evaluate
    duo.wait_for_element("#shell-alert-toast-item", timeout=60)
    assert "UI breakout" in duo.find_element("#shell-alert-toast-item").text
    duo.wait_for_text_to_equal("#nav-alerts-badge", "1", timeout=20)
    duo.wait_for_contains_text("#al-history", "UI breakout", timeout=20)
    assert "new" in duo.find_element("#al-history").text


def test_a_refused_rule_shows_the_field(signed_in):
    duo = signed_in("trader@example.com", path="/alerts")
    duo.wait_for_element("#al-save", timeout=30)
    _type(duo, "#al-name", "bad")
    duo.wait_for_element("#al-params input", timeout=10)
    _type(duo, "#al-params input", "100")
    _type(duo, "#al-cooldown", "-1")
    duo.driver.execute_script("arguments[0].click()", duo.find_element("#al-save"))
    duo.wait_for_contains_text("#al-error", "cooldown_s", timeout=20)
