"""The Signals page: heat-map, overview table, breakdown with reasons, event chart, quality (headless Chromium)."""
import pytest

pytestmark = pytest.mark.browser


def test_signals_page_shows_heatmap_table_and_breakdown(signed_in):
    duo = signed_in("trader@example.com", path="/signals")
    # heat-map: one row per symbol, timeframes + fused as columns, score text in the cells
    duo.wait_for_element("#signals-heatmap g.heatmaplayer image, #signals-heatmap g.hm image", timeout=20)
    cells = duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#signals-heatmap text.heatmap-label, "
        "#signals-heatmap g.heatmaplayer text')).map(t => t.textContent)")
    assert any(c.isdigit() for c in cells)
    xticks = [t.text for t in duo.find_elements("#signals-heatmap .xtick text")]
    assert "fused" in xticks and "1h" in xticks
    # the sortable table lists both symbols with a fused score
    duo.wait_for_contains_text("#signals-table", "BTC/USDT", timeout=10)
    assert "ETH/USDT" in duo.find_element("#signals-table").text
    # breakdown: per-timeframe blocks with reasons and their points
    duo.wait_for_contains_text("#signals-breakdown", "confidence", timeout=10)
    text = duo.find_element("#signals-breakdown").text
    assert "1m" in text and "share" in text
    assert any(line.strip().startswith(("+", "-")) or " +" in line or " -" in line for line in text.splitlines())
    duo.wait_for_contains_text("#signals-summary", "fused", timeout=10)
    # candlesticks with event markers
    duo.wait_for_element("#signals-chart g.trace.boxes", timeout=10)
    duo.wait_for_element("#signals-chart g.scatterlayer .point", timeout=10)
    # history, quality and the honest weights note
    duo.wait_for_element("#signals-history g.scatterlayer .trace", timeout=10)
    duo.wait_for_contains_text("#signals-quality-meta", "Computed", timeout=10)
    assert "not fitted" in duo.find_element("#signals-disclaimer").text
    assert "rsi_oversold" in duo.driver.execute_script("return document.getElementById('signals-weights').textContent")
    assert duo.get_logs() == [] or all("favicon" in e["message"] for e in duo.get_logs())


def test_clicking_a_table_row_selects_the_symbol(signed_in):
    duo = signed_in("trader@example.com", path="/signals")
    duo.wait_for_contains_text("#signals-table", "ETH/USDT", timeout=20)
    cell = [c for c in duo.find_elements("#signals-table td[data-dash-column='symbol']") if c.text == "ETH/USDT"][0]
    cell.click()
    duo.wait_for_contains_text("#signals-chart .gtitle", "ETH/USDT", timeout=10)
    duo.wait_for_contains_text("#signals-summary", "fused", timeout=10)
    duo.wait_for_contains_text("#signals-quality-meta", "Computed", timeout=10)


def test_nav_link_leads_to_signals(signed_in):
    duo = signed_in("trader@example.com")
    duo.wait_for_element("#nav-signals", timeout=20).click()
    duo.wait_for_element("#signals-heatmap .main-svg", timeout=20)
    # let the page's callbacks finish before the server stops
    duo.wait_for_contains_text("#signals-summary", "fused", timeout=20)
    duo.wait_for_element("#signals-chart g.trace.boxes", timeout=20)
    duo.wait_for_contains_text("#signals-quality-meta", "Computed", timeout=20)


def test_clicking_a_heatmap_cell_selects_the_symbol(signed_in):
    from selenium.webdriver.common.action_chains import ActionChains

    duo = signed_in("trader@example.com", path="/signals")
    duo.wait_for_contains_text("#signals-chart .gtitle", "BTC/USDT", timeout=20)
    drag = duo.wait_for_element("#signals-heatmap .nsewdrag", timeout=10)
    rows = duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#signals-heatmap .ytick text')).map(t => t.textContent)")
    eth_row = rows.index("ETH/USDT")  # plotly draws y ticks bottom-up
    height, width = drag.size["height"], drag.size["width"]
    y_from_top = height * (1 - (eth_row + 0.5) / len(rows))
    # selenium 4.2 measures the offset from the element's top-left corner
    ActionChains(duo.driver).move_to_element_with_offset(drag, int(width * 0.3), int(y_from_top)).click().perform()
    duo.wait_for_contains_text("#signals-chart .gtitle", "ETH/USDT", timeout=10)
    duo.wait_for_contains_text("#signals-quality-meta", "Computed", timeout=10)


def test_tables_use_the_theme_font(signed_in):
    duo = signed_in("trader@example.com", path="/signals")
    cell = duo.wait_for_element("#signals-table td[data-dash-column='symbol']", timeout=20)
    body_font = duo.driver.execute_script("return getComputedStyle(document.body).fontFamily")
    assert "monospace" not in cell.value_of_css_property("font-family")
    assert cell.value_of_css_property("font-family") == body_font


def test_lstm_panel_shows_the_champions_prediction_next_to_the_baselines(signed_in, browser_app):
    from app.extensions import db
    from app.market import store
    from app.mlops.predict import predict_symbol
    from app.mlops.service import registry
    from ml.config import TrainConfig
    from ml.evaluate import walk_forward
    from ml.training import train

    tiny = TrainConfig(lookback=8, units=8, epochs=2, batch_size=64, patience=1)
    with browser_app.server.app_context():
        conn = db.session.connection()
        candles = store.load_candles(conn, store.find_series(conn, "demo", "ETH/USDT", "5m"))
        evaluation = walk_forward(candles, tiny, folds=1)
        reg = registry(browser_app.server.config["CW_SETTINGS"])
        version = reg.save("ETH/USDT", "5m", train(candles, tiny), walk_forward=evaluation.to_dict())
        reg.promote("ETH/USDT", "5m", version.version)
        [pred] = predict_symbol(db.session, reg, "demo", "ETH/USDT", ["5m"])
    duo = signed_in("trader@example.com", path="/signals?symbol=ETH/USDT")
    duo.wait_for_contains_text("#signals-lstm-table", f"v{version.version}", timeout=20)
    text = duo.find_element("#signals-lstm-table").text
    assert f"{pred['p_up']:.3f}" in text
    assert f"{100 * evaluation.summary['lstm']['accuracy']:.1f}%" in text
    assert f"{100 * evaluation.summary['base_rate']['accuracy']:.1f}%" in text
    assert ("beats baselines" in text) == evaluation.beats_baselines()
    assert "no edge over baselines" in text or "beats baselines" in text
