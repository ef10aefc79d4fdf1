"""The admin page: 403 content for traders; users, a queue round trip and LSTM models for admins."""
import time

import pytest

pytestmark = pytest.mark.browser


def _settled(duo, css):
    """The element, in view, once the page has settled: the Admin page's tables render after it loads and
    move what is below them."""
    for rendered in ("#admin-users-table", "#admin-audit-rows, #admin-audit-empty", "#admin-system-figures",
                     "#admin-models-table, #admin-models-empty", "#admin-system-state"):
        duo.wait_for_element(rendered, timeout=20)
    element = duo.find_element(css)
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    return element


def _select(duo, css, value, attempts=5):
    """Choose ``value`` in a dropdown. The Admin page keeps moving while its panels refresh, so a real
    mouse click can land on whatever slid under the pointer; the dropdown's own trigger and the option are
    clicked from script instead (a click event cannot be intercepted), and the chosen value is checked."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By

    for attempt in range(attempts):
        element = _settled(duo, css)
        trigger = element.find_elements(By.CSS_SELECTOR, "button, [role=combobox], [aria-haspopup]")
        duo.driver.execute_script("arguments[0].click();", trigger[0] if trigger else element)
        try:
            menu = duo.wait_for_element(".dash-dropdown-options", timeout=5)
        except TimeoutException:
            continue
        for option in menu.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option"):
            if option.text == value:
                duo.driver.execute_script("arguments[0].click();", option)
                break
        try:
            duo.wait_for_contains_text(css, value, timeout=5)
            return
        except TimeoutException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def _click(duo, css):
    duo.driver.execute_script("arguments[0].click();", _settled(duo, css))


def test_trader_gets_403_content_on_admin_page(signed_in):
    duo = signed_in("trader@example.com", path="/admin")
    duo.wait_for_contains_text("#admin-forbidden", "403", timeout=20)
    assert not duo.driver.find_elements("css selector", "#nav-admin")


def test_admin_sees_users_and_pings_a_worker(signed_in):
    duo = signed_in("admin@example.com", path="/admin")
    duo.wait_for_contains_text("#admin-users-table", "trader@example.com", timeout=20)
    duo.wait_for_contains_text("#admin-mode", "Embedded mode", timeout=10)
    _click(duo, "#admin-ping-button")
    duo.wait_for_contains_text("#admin-ping-result", "pong from pid", timeout=20)
    assert "inprocess runner" in duo.find_element("#admin-ping-result").text


@pytest.fixture
def no_models_left(browser_app):
    """The versions this test trains are removed afterwards, so later tests of the shared app start
    from a registry without BTC/USDT 5m models (their version numbers would otherwise shift)."""
    import shutil
    from pathlib import Path

    from ml.registry import slug

    yield
    settings = browser_app.server.config["CW_SETTINGS"]
    shutil.rmtree(Path(settings.model_dir) / slug("BTC/USDT") / "5m", ignore_errors=True)


def test_admin_trains_an_lstm_version_and_manages_the_champion(signed_in, browser_app, no_models_left):
    from app.mlops.service import registry
    from ml.registry import should_promote

    duo = signed_in("admin@example.com", path="/admin")
    duo.wait_for_contains_text("#admin-models-empty", "No models yet", timeout=20)
    _select(duo, "#admin-train-timeframe", "5m")
    epochs = duo.find_element("#admin-train-epochs")
    epochs.clear()
    epochs.send_keys("2")
    _click(duo, "#admin-train-button")
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
        _click(duo, "#admin-models-table button")
        duo.wait_for_contains_text("#admin-models-alert", "v1 is now the champion", timeout=20)
        duo.wait_for_contains_text("#admin-models-table", "champion", timeout=10)
    _click(duo, "#admin-models-table button")       # the champion's "Roll back"
    duo.wait_for_contains_text("#admin-models-alert", "no earlier champion", timeout=20)


def _confirm(duo):
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(duo.driver, 10).until(EC.alert_is_present())
    duo.driver.switch_to.alert.accept()


def test_emergency_stop_banner_appears_and_disappears(signed_in, browser_app):
    import app.hot as hot

    duo = signed_in("admin@example.com", path="/admin")
    duo.wait_for_contains_text("#admin-system-state", "running", timeout=20)
    assert not duo.driver.find_elements("css selector", "#shell-stop-alert")
    try:
        duo.find_element("#admin-stop-reason").send_keys("exchange outage")
        _click(duo, "#admin-stop-button")
        _confirm(duo)
        duo.wait_for_contains_text("#shell-stop-alert", "Emergency stop in force", timeout=20)
        assert "exchange outage" in duo.find_element("#shell-stop-alert").text
        duo.wait_for_contains_text("#admin-system-state", "stopped", timeout=10)
        duo.driver.get(f"{duo.server.url}/signals")  # every page carries the banner while the stop lasts
        duo.wait_for_contains_text("#shell-stop-alert", "exchange outage", timeout=20)
        duo.driver.get(f"{duo.server.url}/admin")
        duo.wait_for_contains_text("#admin-system-state", "stopped", timeout=20)
        _click(duo, "#admin-resume-button")
        _confirm(duo)
        duo.wait_for_contains_text("#admin-system-state", "running", timeout=20)
        duo.wait_for_no_elements("#shell-stop-alert", timeout=10)
    finally:
        with browser_app.server.app_context():
            hot.system_state().resume()
