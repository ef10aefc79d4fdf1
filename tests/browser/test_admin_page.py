"""The admin page: 403 content for traders; users table and a queue round trip for admins."""
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
