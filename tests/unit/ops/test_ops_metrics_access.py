"""Who may read /metrics: the pure decision."""
from app.ops.metrics_access import allowed, bearer_token
from app.settings import Settings

TOKEN = "metrics-token-0123456789"


def prod(**kw) -> Settings:
    return Settings(env="production", secret_key="s" * 32, **kw)


def test_development_without_configuration_is_open():
    assert allowed(Settings(), None, "203.0.113.9")


def test_production_refuses_anonymous_even_from_loopback_when_nothing_is_configured():
    assert not allowed(prod(), None, "127.0.0.1")
    assert not allowed(prod(), "Bearer anything-at-all-here", "127.0.0.1")


def test_token_is_accepted_and_a_wrong_one_refused():
    s = prod(metrics_token=TOKEN)
    assert allowed(s, f"Bearer {TOKEN}", "203.0.113.9")
    assert allowed(s, f"bearer {TOKEN}", None)
    assert not allowed(s, f"Bearer {TOKEN}x", "203.0.113.9")
    assert not allowed(s, f"Basic {TOKEN}", "203.0.113.9")
    assert not allowed(s, None, "203.0.113.9")


def test_allow_listed_networks():
    s = prod(metrics_allow_networks=("10.0.0.0/8", "2001:db8::/32"))
    assert allowed(s, None, "10.1.2.3") and allowed(s, None, "2001:db8::5")
    assert not allowed(s, None, "11.0.0.1") and not allowed(s, None, "not-an-ip") and not allowed(s, None, None)


def test_a_token_configured_outside_production_is_enforced_too():
    assert not allowed(Settings(metrics_token=TOKEN), None, "127.0.0.1")


def test_bearer_token_parsing():
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("Bearer ") is None and bearer_token("Token abc") is None and bearer_token(None) is None
