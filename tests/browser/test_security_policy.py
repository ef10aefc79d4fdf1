"""Every page renders under the Content-Security-Policy without a single violation, and sign-out is a form POST."""
import time

import pytest

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || ''));
});
"""


def _violations(duo):
    found = duo.driver.execute_script("return window.__cspViolations || null")
    assert found is not None, "the violation recorder did not run on this page"
    console = [e["message"] for e in duo.get_logs() or [] if "Content Security Policy" in e["message"]
               or "Refused to" in e["message"]]
    return found + console


@pytest.fixture
def watched(signed_in, dash_duo):
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    return signed_in


def test_pages_render_without_csp_violations(watched):
    duo = watched("admin@example.com")
    duo.wait_for_element("#market-chart .main-svg", timeout=20)
    duo.wait_for_element("#market-chart g.trace.boxes", timeout=10)
    time.sleep(0.5)
    assert _violations(duo) == []
    for path, ready in (("/signals", "#signals-heatmap .main-svg"), ("/backtests", "#bt-params input"),
                        ("/admin", "#admin-users-table")):
        duo.driver.get(f"{duo.server.url}{path}")
        duo.wait_for_element(ready, timeout=30)
        time.sleep(0.5)
        assert _violations(duo) == [], path
    # the page really ran under the policy: an injected inline script is refused
    duo.driver.execute_script(
        "var s = document.createElement('script'); s.textContent = 'window.__injected = 1';"
        "document.body.appendChild(s);")
    time.sleep(0.3)
    assert duo.driver.execute_script("return window.__injected === undefined")
    assert any("script-src" in v for v in duo.driver.execute_script("return window.__cspViolations"))


def test_login_page_renders_without_csp_violations(watched):
    duo = watched("trader@example.com", password="not-the-password")
    duo.wait_for_text_to_equal("#login-error", "Wrong e-mail or password.", timeout=10)
    assert _violations(duo) == []


def test_sign_out_button_posts_and_ends_the_session(watched):
    duo = watched("trader@example.com")
    duo.wait_for_element("#market-chart .main-svg", timeout=20)
    duo.find_element("#shell-logout").click()
    duo.wait_for_text_to_equal("#login-message", "You have been signed out.", timeout=10)
    duo.driver.get(f"{duo.server.url}/")
    duo.wait_for_element("#login-form", timeout=10)  # the guard sends us back to sign in
    assert _violations(duo) == []
