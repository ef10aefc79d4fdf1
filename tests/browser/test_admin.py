"""The admin page: 403 content for traders; users, a queue round trip and LSTM models for admins."""
import pytest

pytestmark = pytest.mark.browser


def test_trader_gets_403_content_on_admin_page(signed_in):
    duo = signed_in("trader@example.com", path="/admin")
    duo.wait_for_contains_text("#admin-forbidden", "403", timeout=20)
    assert not duo.driver.find_elements("css selector", "#nav-admin")


def test_admin_sees_users_and_pings_a_worker(signed_in):
    duo = signed_in("admin@example.com", path="/admin")
    duo.wait_for_contains_text("#admin-users-table", "trader@example.com", timeout=20)
    duo.wait_for_contains_text("#admin-mode", "Embedded mode", timeout=10)
    duo.find_element("#admin-ping-button").click()
    duo.wait_for_contains_text("#admin-ping-result", "pong from pid", timeout=20)
    assert "inprocess runner" in duo.find_element("#admin-ping-result").text


def test_admin_trains_an_lstm_version_and_manages_the_champion(signed_in, browser_app):
    from app.mlops.service import registry
    from ml.registry import should_promote

    duo = signed_in("admin@example.com", path="/admin")
    duo.wait_for_contains_text("#admin-models-empty", "No models yet", timeout=20)
    duo.select_dcc_dropdown("#admin-train-timeframe", value="5m")
    epochs = duo.find_element("#admin-train-epochs")
    epochs.clear()
    epochs.send_keys("2")
    duo.find_element("#admin-train-button").click()
    duo.wait_for_contains_text("#admin-train-result", "BTC/USDT 5m v1", timeout=180)
    result = duo.find_element("#admin-train-result").text
    # what the page says is what the promotion rule decided on the stored out-of-sample metrics
    [v1] = registry(browser_app.server.config["CW_SETTINGS"]).versions("BTC/USDT", "5m")
    promoted, _reason = should_promote(v1.summary, None)
    from ml.edge import has_edge

    beats = has_edge(v1.summary)
    assert "Out of sample: accuracy" in result
    assert ("promoted to champion" if promoted else "stored, not promoted") in result
    duo.wait_for_contains_text("#admin-models-table", "v1", timeout=10)
    table = duo.find_element("#admin-models-table").text
    assert "base rate" in table and ("beats baselines" if beats else "no edge") in table
    assert ("champion" in table) == promoted
    if not promoted:                     # not promoted by the rule: an admin can override
        duo.find_element("#admin-models-table button").click()
        duo.wait_for_contains_text("#admin-models-alert", "v1 is now the champion", timeout=20)
        duo.wait_for_contains_text("#admin-models-table", "champion", timeout=10)
    duo.find_element("#admin-models-table button").click()       # the champion's "Roll back"
    duo.wait_for_contains_text("#admin-models-alert", "no earlier champion", timeout=20)
