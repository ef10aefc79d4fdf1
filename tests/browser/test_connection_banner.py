"""The browser side of a fault: while the server is down every page shows the shell's "connection lost,
retrying" banner, and once the server is back the banner goes and the page updates again by itself.

The test serves the session's app with its own werkzeug server (HTTP/1.0, so no kept-alive connection
outlives a stop), stops it for real (the port refuses connections) and starts it again on the same port.
"""
from __future__ import annotations

import threading
import time

import pytest
from selenium.webdriver.common.by import By
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.browser.conftest import PASSWORD, free_port

pytestmark = pytest.mark.browser

BANNER = "shell-connection-alert"
SHELL_INTERVAL_S = 5  # the shell's own intervals (stop banner, alert bell) tick every 5 s


class _OneRequestPerConnection(WSGIRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_request(self, *args, **kwargs):  # quiet
        pass


class StoppableServer:
    def __init__(self, wsgi_app, port: int):
        self.wsgi_app, self.port, self.httpd, self.thread = wsgi_app, port, None, None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.httpd = make_server("127.0.0.1", self.port, self.wsgi_app, threaded=True,
                                 request_handler=_OneRequestPerConnection)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=10)
            self.httpd = None


def _banner_shown(driver) -> bool:
    el = driver.find_element(By.ID, BANNER)
    return "d-none" not in (el.get_attribute("class") or "").split() and el.is_displayed()


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # noqa: BLE001 - the element may be re-rendering
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def live_server(browser_app):
    server = StoppableServer(browser_app.server, free_port())
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("path", ["/", "/signals"])
def test_banner_while_the_server_is_down_and_recovery_when_it_returns(dash_br, browser_app, live_server, path):
    import app.hot as hot

    driver = dash_br.driver
    driver.get(f"{live_server.url}/login?next={path}")
    driver.find_element(By.ID, "email").send_keys("trader@example.com")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    _wait(lambda: driver.find_element(By.ID, BANNER) is not None, 30, "the signed-in shell")
    time.sleep(1)
    assert not _banner_shown(driver), "the banner shows while the server answers"
    assert driver.find_elements(By.ID, "shell-stop-alert") == []

    live_server.stop()
    started = time.monotonic()
    _wait(lambda: _banner_shown(driver), SHELL_INTERVAL_S + 3, "the connection-lost banner")
    assert time.monotonic() - started <= SHELL_INTERVAL_S + 3
    assert "Connection lost, retrying" in driver.find_element(By.ID, BANNER).text
    time.sleep(2)  # it stays while the server stays away (the probes fail too)
    assert _banner_shown(driver)

    server = browser_app.server
    with server.app_context():  # what changed while the page could not ask: an emergency stop
        hot.system_state().stop(by="ops@example.com", reason="connection banner test")
    try:
        live_server.start()
        _wait(lambda: not _banner_shown(driver), 10, "the banner to go once the server is back")
        # the page's own interval callbacks run again: the stop set while it was away now shows
        _wait(lambda: driver.find_elements(By.ID, "shell-stop-alert"), SHELL_INTERVAL_S + 5,
              "the page to update again (the stop banner from its interval callback)")
        assert not _banner_shown(driver)
        assert driver.execute_script("return window.__cwConnection.failures") >= 1
    finally:
        with server.app_context():
            hot.system_state().resume()
