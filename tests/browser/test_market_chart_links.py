"""The trader's chart opened from the Backtests and Portfolio pages (their trades marked; another user's
run marks nothing and says so), the linked crosshair of a two-chart layout, and a rule made on the Alerts
page drawn on the chart as its level."""
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.polling import wait_script

pytestmark = pytest.mark.browser

TRACE_X = ("return (((document.querySelector('#market-chart .js-plotly-plot') || {}).data || [])"
           ".find(t => t.name === '%s') || {}).x")


_wait = wait_script


def _click(duo, selector):
    duo.driver.execute_script("arguments[0].click()", duo.find_element(selector))  # below the fold, too


def _user(app, role="trader"):
    from app.auth.users import create_user

    email = f"chart-link-{uuid.uuid4().hex[:8]}@example.com"
    with app.server.app_context():
        return email, create_user(email, PASSWORD, role=role).id


def _foreign_backtest(app) -> int:
    """A finished-looking backtest row of another user (only its owner and series matter here)."""
    from app.extensions import db
    from app.models import Backtest, User

    with app.server.app_context():
        owner = db.session.query(User).filter_by(email="admin@example.com").one().id
        now = datetime.now(timezone.utc)
        row = Backtest(user_id=owner, exchange="demo", symbol="BTC/USDT", timeframe="15m", strategy="ma_cross",
                       params={}, config={}, status="finished", start_at=now, end_at=now)
        db.session.add(row)
        db.session.commit()
        return row.id


def test_a_backtest_opens_on_the_chart_with_its_trades_and_another_users_shows_nothing(signed_in, browser_app):
    from app.extensions import db
    from app.models import Backtest, BacktestTrade

    email, uid = _user(browser_app)
    duo = signed_in(email, path="/backtests")
    duo.wait_for_element("#bt-params input", timeout=30)
    duo.select_dcc_dropdown("#bt-timeframe", value="15m")
    _click(duo, "#bt-submit")
    duo.wait_for_contains_text("#bt-result-title", "on BTC/USDT · 15m", timeout=60)
    with browser_app.server.app_context():
        run = db.session.query(Backtest).filter_by(user_id=uid).one()
        entries = sorted(t.entry_time for t in db.session.query(BacktestTrade).filter_by(backtest_id=run.id))
    assert entries, "the run has trades to mark"
    link = duo.find_element("#bt-chart-link")
    assert link.get_attribute("href").endswith(f"/?backtest={run.id}")
    _click(duo, "#bt-chart-link")

    duo.wait_for_element("#market-chart .main-svg", timeout=30)
    xs = _wait(duo, TRACE_X % "trade entry", lambda x: len(x) == len(entries), timeout=30, what="trade entries")
    assert sorted(xs)[0].startswith(entries[0].strftime("%Y-%m-%dT%H:%M"))
    assert "BTC/USDT · 15m" in duo.driver.execute_script(
        "return document.querySelector('#market-chart .js-plotly-plot').layout.title.text")
    assert duo.driver.execute_script("return document.querySelectorAll('#market-chart g.trace.scatter').length") > 0

    other = _foreign_backtest(browser_app)  # the same page, another user's run: nothing marked and a message
    duo.driver.get(f"{duo.server.url}/?backtest={other}")
    duo.wait_for_contains_text("#market-error", f"Backtest #{other} is not one of yours", timeout=30)
    duo.wait_for_element("#market-chart .main-svg", timeout=30)
    _wait(duo, TRACE_X % "trade entry", lambda x: x == [], what="no trades of another user")


def test_a_paper_strategy_opens_on_the_chart_with_its_fills(signed_in, browser_app):
    from app.extensions import db
    from app.market import query
    from app.models import PaperFill, PaperStrategy

    email, uid = _user(browser_app)
    with browser_app.server.app_context():
        cat = query.catalog(db.session)
        bars = query.recent_candles(db.session, cat, "BTC/USDT", "1m", limit=30)[0]
        entry, exit_ = bars.index[-20], bars.index[-10]
        row = PaperStrategy(user_id=uid, exchange="demo", symbol="BTC/USDT", timeframe="1m", strategy="buy_and_hold",
                            params={}, config={"initial_cash": 10_000.0}, status="stopped",
                            start_at=entry.to_pydatetime(), warmup_from=(entry - timedelta(hours=1)).to_pydatetime(),
                            processed_through=exit_.to_pydatetime(), equity=10_050.0)
        db.session.add(row)
        db.session.flush()
        for leg, side, t, price in (("entry", "buy", entry, 100.0), ("exit", "sell", exit_, 101.0)):
            db.session.add(PaperFill(strategy_id=row.id, trade_no=0, leg=leg, side=side, qty=1.0, price=price, fee=0.0,
                                     time=t.to_pydatetime(), reason="signal"))
        db.session.commit()
        sid = row.id

    duo = signed_in(email, path="/portfolio")
    duo.wait_for_element(f"#pf-ps-table a[href$='/?paper={sid}']", timeout=30)
    _click(duo, f"#pf-ps-table a[href$='/?paper={sid}']")
    duo.wait_for_element("#market-chart .main-svg", timeout=30)
    xs = _wait(duo, TRACE_X % "trade entry", lambda x: len(x) == 1, timeout=30, what="paper entry")
    assert xs[0].startswith(entry.strftime("%Y-%m-%dT%H:%M"))
    xs = _wait(duo, TRACE_X % "trade exit", lambda x: len(x) == 1, what="paper exit")
    assert xs[0].startswith(exit_.strftime("%Y-%m-%dT%H:%M"))
    assert "· 1m" in duo.driver.execute_script(
        "return document.querySelector('#market-chart .js-plotly-plot').layout.title.text")


HOVERED = ("return (((document.querySelector('#%s .js-plotly-plot') || {})._hoverdata || [])"
           ".find(p => p.curveNumber === 0) || {}).x ?? null")  # the candle in the readout


def _hover_first_chart(duo, fraction):
    """A mouse move over the first chart's plot area (``fraction`` of its width from the left), sent to the
    element Plotly listens on, as the browser sends a real one."""
    duo.driver.execute_script("""
        const drag = document.querySelector('#market-chart .nsewdrag');
        drag.scrollIntoView({block: 'center'});
        const r = drag.getBoundingClientRect();
        const opts = {bubbles: true, cancelable: true, view: window,
                      clientX: r.left + r.width * arguments[0], clientY: r.top + r.height / 2};
        drag.dispatchEvent(new MouseEvent('mouseover', opts));
        drag.dispatchEvent(new MouseEvent('mousemove', opts));
    """, fraction)


def _linked_readout(duo, fraction, previous, timeout=30):
    """Hover the first chart at ``fraction``; its new readout time once the second chart's readout shows the
    same time. The mouse move is sent again every 2 s, as a real mouse keeps sending them: an interval
    tick's update redraws a chart, and the bar under a still cursor can then be the next one without a
    hover event (the other chart keeps the time of the last event)."""
    deadline, seen = time.time() + timeout, None
    while time.time() < deadline:
        _hover_first_chart(duo, fraction)
        for _ in range(10):
            seen = (duo.driver.execute_script(HOVERED % "market-chart"),
                    duo.driver.execute_script(HOVERED % "market-chart-1"))
            if seen[0] is not None and seen[0] != previous and seen[0] == seen[1]:
                return seen[0]
            time.sleep(0.2)
    raise AssertionError(f"linked readout at {fraction:.0%} of the first chart: last (first, second) {seen!r}")


def test_linked_crosshair_moves_the_other_charts_readout(signed_in, browser_app):
    email, _ = _user(browser_app, role="viewer")
    duo = signed_in(email, path="/?symbol=BTC/USDT%26tf=1h")
    duo.wait_for_element("#market-chart .main-svg", timeout=30)
    duo.find_element("label[for='_dbcprivate_radioitems_market-count_input_2']").click()
    duo.wait_for_element("#market-chart-1 .main-svg", timeout=30)
    # the second chart's own series, named: its default is the catalogue's second symbol, which other
    # tests of the session may have added (bars at other times, so its nearest bar is another one)
    duo.select_dcc_dropdown("#market-symbol-1", value="ETH/USDT")
    duo.wait_for_contains_text("#market-chart-1", "ETH/USDT", timeout=20)
    duo.select_dcc_dropdown("#market-timeframe-1", value="1h")
    duo.wait_for_contains_text("#market-chart-1", "ETH/USDT · 1h", timeout=20)
    duo.driver.set_window_size(1600, 1000)  # the two charts side by side
    time.sleep(0.5)

    _hover_first_chart(duo, 0.5)  # not linked: the second chart shows no readout
    source = _wait(duo, HOVERED % "market-chart", lambda x: True, what="first chart hovered")
    time.sleep(1.0)
    assert duo.driver.execute_script(HOVERED % "market-chart-1") is None

    _click(duo, "#market-link")
    duo.wait_for_element("#market-chart .nsewdrag", timeout=10)
    for fraction in (0.3, 0.7):  # linked: each hover moves the other chart's readout to the same bar's time
        source = _linked_readout(duo, fraction, source)
        # the second chart's readout names the first chart's candle time (not that of a signal mark on the
        # bar before, which the first chart's hover points can list first), with its OHLC
        label = datetime.strptime(source, "%Y-%m-%d %H:%M").strftime("%b %-d, %Y, %H:%M")
        assert label in duo.driver.execute_script(
            "return document.querySelector('#market-chart-1 .hoverlayer').textContent")
        assert "open:" in duo.driver.execute_script(
            "return document.querySelector('#market-chart-1 .hoverlayer').textContent")
        assert duo.driver.execute_script("return document.querySelectorAll('#market-chart-1 .spikeline').length") > 0


def test_a_rule_made_on_the_alerts_page_shows_its_level_on_the_chart(signed_in, browser_app):
    from selenium.webdriver.support.ui import Select

    email, _ = _user(browser_app)
    duo = signed_in(email, path="/alerts")
    duo.wait_for_element("#al-save", timeout=30)
    duo.find_element("#al-name").send_keys("chart level")
    Select(duo.find_element("#al-symbol")).select_by_value("BTC/USDT")
    Select(duo.find_element("#al-timeframe")).select_by_value("1m")
    duo.wait_for_element("#al-params input", timeout=10)
    box = duo.find_element("#al-params input")
    box.clear()
    box.send_keys("54321.5")
    _click(duo, "#al-save")
    duo.wait_for_contains_text("#al-saved", "Saved rule", timeout=20)

    duo.driver.get(f"{duo.server.url}/?symbol=BTC/USDT&tf=1m")
    duo.wait_for_element("#market-chart .main-svg", timeout=30)
    levels = _wait(duo, "return ((document.querySelector('#market-chart .js-plotly-plot') || {}).layout || {}).shapes"
                        "?.filter(s => (s.name || '').startsWith('alert')).map(s => [s.y0, s.label.text])",
                   lambda v: len(v) == 1, what="the rule's level on the chart")
    assert levels[0] == [54321.5, "chart level 54321.5"]
