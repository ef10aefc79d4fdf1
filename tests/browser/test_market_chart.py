"""The trader's chart in a browser: overlays and panes drawn and removed, scrolling back loads older bars,
an alert level shows after a rule is created, and a four-chart layout is restored after a reload."""
import time
import uuid

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.polling import wait_script

pytestmark = pytest.mark.browser

FIG = "return (document.querySelector('#%s .js-plotly-plot') || {}).%s"


_wait = wait_script


def _names(duo, chart="market-chart"):
    return "return ((document.querySelector('#%s .js-plotly-plot') || {}).data || []).map(t => t.name)" % chart


def _click(duo, kind, value, chart="market"):
    duo.find_element(f"label[for='_dbcprivate_checklist_{chart}-{kind}_input_{value}']").click()


def test_overlays_panes_scrolling_alert_levels_and_a_restored_four_chart_layout(signed_in, browser_app):
    from app.auth.users import create_user
    from app.extensions import db
    from app.models import AlertRule

    email = f"chart-{uuid.uuid4().hex[:8]}@example.com"
    with browser_app.server.app_context():
        uid = create_user(email, PASSWORD, role="viewer").id  # viewers may keep their own layout
    duo = signed_in(email, path="/?symbol=BTC/USDT%26tf=1m")  # & inside ?next=
    duo.wait_for_element("#market-chart .main-svg", timeout=30)
    _wait(duo, _names(duo), lambda n: n[:3] == ["price", "forming", "volume"], what="default chart")

    _click(duo, "overlays", "sma")
    _click(duo, "panes", "rsi")
    _wait(duo, _names(duo), lambda n: "SMA 20" in n and "RSI" in n and "volume" in n, what="SMA and RSI drawn")
    duo.wait_for_element("#market-chart g.trace.scatter", timeout=10)
    _click(duo, "panes", "volume")
    _wait(duo, _names(duo), lambda n: "volume" not in n and "RSI" in n, what="volume pane removed")

    duo.wait_for_contains_text("#market-status", "500 bars", timeout=20)
    duo.driver.execute_script(
        "const d = document.querySelector('#market-chart .js-plotly-plot');"
        "const x = d.data[0].x; const t0 = new Date(x[0]).getTime() - 3 * 3600 * 1000;"
        "Plotly.relayout(d, {'xaxis.range': [new Date(t0).toISOString(), x[x.length - 1]]});")
    duo.wait_for_contains_text("#market-status", "1000 bars", timeout=20)

    with browser_app.server.app_context():
        db.session.add(AlertRule(user_id=uid, name="breakout", exchange="demo", symbol="BTC/USDT", timeframe="1m",
                                 kind="price_above", params={"level": 12345.5}, channels=["inapp"]))
        db.session.commit()
    _click(duo, "overlays", "ema")  # any redraw (or the next tick) reads the user's marks again
    _wait(duo, FIG % ("market-chart", "layout.shapes.filter(s => s.name && s.name.startsWith('alert')).length"),
          lambda n: n == 1, what="alert level drawn")

    duo.find_element("label[for='_dbcprivate_radioitems_market-count_input_4']").click()
    duo.wait_for_element("#market-chart-3 .main-svg", timeout=30)
    duo.wait_for_contains_text("#market-layout-msg", "layout saved", timeout=10)

    duo.driver.refresh()
    duo.wait_for_element("#market-chart-3 .main-svg", timeout=30)
    assert duo.driver.execute_script("return document.getElementById('_dbcprivate_radioitems_market-count_input_4')"
                                     ".checked")
    _wait(duo, _names(duo), lambda n: "SMA 20" in n and "EMA 50" in n and "RSI" in n and "volume" not in n,
          what="restored overlays and panes")
