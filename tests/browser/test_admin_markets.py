"""The Admin page's Markets section in a browser: add a symbol, watch its backfill finish, see it listed."""
import pytest

from tests.browser.test_admin import _click, _settled

pytestmark = pytest.mark.browser


def test_admin_adds_a_market_and_sees_it_listed(signed_in, browser_app):
    from app.audit.log import Actor
    from app.extensions import db
    from app.market import watchlist

    duo = signed_in("admin@example.com", path="/admin")
    duo.wait_for_contains_text("#admin-markets-list", "BTC/USDT", timeout=20)
    try:
        _settled(duo, "#admin-market-symbol").send_keys("ADA/USDT")
        _click(duo, "#admin-market-add")
        duo.wait_for_contains_text("#admin-markets-alert", "ADA/USDT added", timeout=20)
        duo.wait_for_contains_text("#admin-markets-list", "ADA/USDT", timeout=10)
        duo.wait_for_contains_text("#admin-market-backfill-done", "Backfill done", timeout=60)
        # it shows on the other pages at once (the Models section's dropdown: tests/integration/admin)
        duo.driver.get(f"{duo.server.url}/alerts")
        duo.wait_for_element("#al-symbol option[value='ADA/USDT']", timeout=20)
    finally:  # the session's app is shared: leave its watch-list and catalogue as they were
        settings = browser_app.server.config["CW_SETTINGS"]
        with browser_app.server.app_context():
            if "ADA/USDT" in watchlist.symbols(db.session, settings):
                watchlist.remove(db.session, settings, "auto", "ADA/USDT", Actor("cli"), delete_history=True,
                                 history_exchange="demo")
                db.session.commit()
            import app.hot as hot

            hot.catalog_cache(settings).invalidate()
