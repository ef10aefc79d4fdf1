"""The navbar links every signed-in user to the API tokens page, which the Dash app's server serves."""
import pytest

from tests.conftest import login

pytestmark = pytest.mark.integration


def test_navbar_links_to_the_tokens_page(dash_server, make_dash_user):
    email, _ = make_dash_user("nav", role="viewer")
    client = dash_server.test_client()
    assert login(client, email).status_code == 302
    stack, links = [client.get("/_dash-layout").get_json()], {}
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and props.get("id") == "nav-tokens":
                links = props
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    assert links["href"] == "/account/tokens" and links["external_link"] is True
    page = client.get("/account/tokens")
    assert page.status_code == 200 and b'id="token-form"' in page.data
    html = page.get_data(as_text=True)
    trade = html[html.index('id="scope-trade"') - 120: html.index('id="scope-trade"') + 120]
    assert "disabled" in trade  # a viewer is offered only the read scope
