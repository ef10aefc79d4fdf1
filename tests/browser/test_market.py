"""Log in through the form and see the candlestick chart render (headless Chromium)."""
import pytest

pytestmark = pytest.mark.browser


def test_trader_logs_in_and_sees_candlestick_chart(signed_in):
    duo = signed_in("trader@example.com")
    duo.wait_for_element("#market-chart .main-svg", timeout=20)
    # a candlestick trace and the volume bars were drawn
    duo.wait_for_element("#market-chart g.trace.boxes", timeout=10)
    duo.wait_for_element("#market-chart g.barlayer .point", timeout=10)
    duo.wait_for_contains_text("#market-source-badge", "offline demo data", timeout=10)
    assert "bars from the database" in duo.find_element("#market-status").text  # embedded: no Redis
    duo.wait_for_contains_text("#market-ticker", "BTC/USDT", timeout=10)
    assert "ETH/USDT" in duo.find_element("#market-ticker").text
    assert "%" in duo.find_element("#market-ticker").text
    assert duo.find_element("#shell-user").text.startswith("trader@example.com")
    assert duo.get_logs() == [] or all("favicon" in e["message"] for e in duo.get_logs())


def test_switching_timeframe_redraws_the_chart(signed_in):
    duo = signed_in("trader@example.com")
    duo.wait_for_contains_text("#market-status", "bars", timeout=20)
    duo.wait_for_contains_text(".gtitle", "· 1h", timeout=10)
    label = duo.find_element("label[for='_dbcprivate_radioitems_market-timeframe_input_15m']")
    label.click()
    duo.wait_for_contains_text(".gtitle", "· 15m", timeout=10)


def test_unknown_symbol_in_url_gets_a_clear_message(signed_in):
    duo = signed_in("trader@example.com", path="/?symbol=DOGE/XYZ")
    duo.wait_for_contains_text("#market-error", "Unknown symbol 'DOGE/XYZ'", timeout=20)
    duo.wait_for_element("#market-chart .main-svg", timeout=20)  # still shows a valid default chart


def test_theme_is_served_locally(signed_in):
    duo = signed_in("trader@example.com")
    duo.wait_for_element("#market-chart", timeout=20)
    bg = duo.driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(34, 34, 34)"  # Bootswatch Darkly's body colour: the local stylesheet loaded
    # the icon font (served by the app too) is loaded and used by the navbar icons
    import time

    deadline = time.time() + 10
    while not duo.driver.execute_script("return document.fonts.check('16px bootstrap-icons')"):
        assert time.time() < deadline, "bootstrap-icons font never loaded"
        time.sleep(0.2)
    links = duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('link[rel=stylesheet]')).map(l => l.href)")
    assert links and all(l.startswith(duo.server.url) for l in links)


def test_wrong_password_shows_message(signed_in):
    duo = signed_in("trader@example.com", password="not-the-password")
    duo.wait_for_text_to_equal("#login-error", "Wrong e-mail or password.", timeout=10)
