"""Backtests page in headless Chromium: submit the form, watch progress, see the results and downloads."""
import pytest

pytestmark = pytest.mark.browser


def _submit(duo):
    duo.wait_for_element("#bt-submit", timeout=20)
    duo.wait_for_element("#bt-params input", timeout=10)  # the strategy's parameter inputs were built
    button = duo.find_element("#bt-submit")
    duo.driver.execute_script("arguments[0].click()", button)  # below the fold of the headless window


def test_run_a_backtest_and_see_the_results(signed_in):
    duo = signed_in("trader@example.com", path="/backtests")
    duo.wait_for_text_to_equal("#nav-backtests", "Backtests", timeout=20)
    # a 15m run over the seeded 3 days: enough bars for ma_cross 10/30
    duo.select_dcc_dropdown("#bt-timeframe", value="15m")
    _submit(duo)
    duo.wait_for_element("#bt-progress-bar", timeout=10)  # the progress bar showed while the job ran
    duo.wait_for_contains_text("#bt-result-title", "ma_cross on BTC/USDT · 15m", timeout=30)
    duo.wait_for_element("#bt-equity .main-svg", timeout=10)
    # equity curve against buy-and-hold: two line traces
    assert len(duo.find_elements("#bt-equity g.trace.scatter")) == 2
    duo.wait_for_element("#bt-trades-chart g.trace.boxes", timeout=10)  # candlesticks with the trade markers
    links = {e.text.strip(): e.get_attribute("href") for e in duo.find_elements("#bt-downloads a")}
    assert set(links) == {"Trades CSV", "Result JSON", "XLSX workbook", "HTML tear sheet", "PDF report"}
    assert all("/backtests/" in h and "/download/" in h for h in links.values())
    assert duo.find_elements("#bt-progress-bar") == []  # the bar gave way to the result: polling ended
    # the run is listed in the history
    duo.wait_for_contains_text("#bt-history", "ma_cross", timeout=10)


def test_bad_request_shows_messages(signed_in):
    duo = signed_in("trader@example.com", path="/backtests")
    duo.wait_for_element("#bt-start", timeout=20)
    start = duo.find_element("#bt-start")
    start.clear()
    start.send_keys("not-a-date")
    _submit(duo)
    duo.wait_for_contains_text("#bt-form-errors", "is not a date", timeout=10)
