"""One seeded app for the browser tests (Dash's page registry is process-global)."""
import pytest


PASSWORD = "correct-horse-battery"


def free_port() -> int:
    """A free TCP port on loopback, so concurrent test runs never fight over Dash's default 8050."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def browser_app(dash_app):
    """The session's Dash app, seeded once with demo data, two users and one analysis run."""
    from app.analysis.analyze import analyze_symbol
    from app.analysis.quality_report import refresh_quality
    from app.auth.users import create_user
    from app.extensions import db
    from app.market.seed import seed_demo

    app = dash_app
    settings = app.server.config["CW_SETTINGS"]
    with app.server.app_context():
        create_user("admin@example.com", PASSWORD, role="admin")
        create_user("trader@example.com", PASSWORD, role="trader")
        seed_demo(db.session.connection(), settings)
        db.session.commit()
        for symbol in settings.watchlist:  # one analysis run, so the Signals page has data
            analyze_symbol(db.session, "demo", symbol)
            refresh_quality(db.session, "demo", symbol)
        db.session.commit()
    return app


@pytest.fixture
def signed_in(dash_duo, browser_app):
    """Start the server and sign in through the real login form; returns a function(email)."""
    dash_duo.start_server(browser_app, navigate=False, port=free_port())

    def _sign_in(email: str, password: str = PASSWORD, path: str = "/"):
        from selenium.webdriver.common.by import By

        dash_duo.driver.get(f"{dash_duo.server.url}/login?next={path}")
        dash_duo.driver.find_element(By.ID, "email").send_keys(email)
        dash_duo.driver.find_element(By.ID, "password").send_keys(password)
        dash_duo.driver.find_element(By.ID, "login-submit").click()
        return dash_duo

    return _sign_in
