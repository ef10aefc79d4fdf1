"""The forced password change in a browser: an admin creates a user on the Admin page (the one-time
password shown once); that user signs in with it, is sent to the change form, chooses their own and
lands on the dashboard."""
import uuid

import pytest

from tests.browser.test_admin import _click, _settled

pytestmark = pytest.mark.browser


def test_created_user_changes_the_one_time_password_and_lands_on_the_dashboard(signed_in):
    from selenium.webdriver.common.by import By

    email = f"fresh-{uuid.uuid4().hex[:8]}@example.com"
    duo = signed_in("admin@example.com", path="/admin")
    duo.wait_for_contains_text("#admin-users-table", "trader@example.com", timeout=20)
    field = _settled(duo, "#admin-user-new-email")
    field.send_keys(email)
    _click(duo, "#admin-user-create")
    duo.wait_for_element("#admin-users-password", timeout=20)
    one_time = duo.find_element("#admin-users-password").text.strip()
    assert len(one_time) >= 20
    duo.wait_for_contains_text("#admin-users-table", "password change due", timeout=10)

    duo.driver.delete_all_cookies()
    signed_in(email, password=one_time, path="/")
    duo.wait_for_element("#password-forced", timeout=20)
    assert duo.driver.current_url.endswith("/account/password?next=%2F")
    driver = duo.driver
    driver.find_element(By.ID, "current-password").send_keys(one_time)
    driver.find_element(By.ID, "new-password").send_keys("tulip-harbor-ledger-93")
    driver.find_element(By.ID, "confirm-password").send_keys("tulip-harbour-ledger-93")  # a typo: refused
    driver.find_element(By.ID, "password-submit").click()
    duo.wait_for_contains_text("#password-error", "the two new passwords differ", timeout=20)
    driver.find_element(By.ID, "current-password").send_keys(one_time)
    driver.find_element(By.ID, "new-password").send_keys("tulip-harbor-ledger-93")
    driver.find_element(By.ID, "confirm-password").send_keys("tulip-harbor-ledger-93")
    driver.find_element(By.ID, "password-submit").click()
    duo.wait_for_contains_text("#shell-user", email, timeout=20)
    duo.wait_for_element("#market-chart .main-svg", timeout=20)
    assert driver.current_url.rstrip("/") == duo.server.url.rstrip("/")
