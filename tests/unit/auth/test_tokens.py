"""The token rules without a database: scopes follow the role, names and expiries are bounded."""
import pytest

from app.auth import tokens


@pytest.mark.parametrize("role,raw,expected", [
    ("viewer", "read", ("read",)),
    ("trader", ["trade", "read"], ("read", "trade")),
    ("admin", "read, admin trade", ("read", "trade", "admin")),
])
def test_scopes_allowed_by_role(role, raw, expected):
    assert tokens.parse_scopes(raw, role) == expected


@pytest.mark.parametrize("role,raw,field_text", [
    ("viewer", ["read", "trade"], "a viewer cannot hold the 'trade' scope"),
    ("trader", "admin", "a trader cannot hold the 'admin' scope"),
    ("admin", "root", "unknown scope 'root'"),
    ("admin", [], "at least one scope"),
    ("admin", [1], "scopes must be a list"),
])
def test_scopes_refused_with_a_field_message(role, raw, field_text):
    with pytest.raises(tokens.TokenError) as info:
        tokens.parse_scopes(raw, role)
    assert field_text in info.value.errors["scopes"]


@pytest.mark.parametrize("raw,ok", [(None, tokens.DEFAULT_DAYS), ("", tokens.DEFAULT_DAYS), (7, 7), ("30", 30),
                                    (366, 366)])
def test_expiry_days(raw, ok):
    assert tokens._days(raw) == ok


@pytest.mark.parametrize("raw", [0, 367, -1, "x", True, 1.5, [3]])
def test_bad_expiry_names_the_field(raw):
    with pytest.raises(tokens.TokenError) as info:
        tokens._days(raw)
    assert "expires_days" in info.value.errors


def test_names_and_token_shape():
    assert tokens._name("  my   notebook ") == "my notebook"
    with pytest.raises(tokens.TokenError):
        tokens._name("x" * 65)
    assert tokens.digest("cw_a") != tokens.digest("cw_b") and len(tokens.digest("cw_a")) == 64


def test_demoted_role_limits_effective_scopes():
    from app.models.api_token import ApiToken
    from app.models.user import User

    tok = ApiToken(scopes="read trade admin")
    assert tokens.effective_scopes(User(role="viewer"), tok) == {"read"}
    assert tokens.effective_scopes(User(role="trader"), tok) == {"read", "trade"}
    assert tokens.effective_scopes(User(role="admin"), tok) == {"read", "trade", "admin"}
