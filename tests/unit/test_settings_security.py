"""The hardening settings: read from the environment, validated with a message naming the variable."""
import pytest

from app.settings import Settings


def test_defaults_and_environment():
    d = Settings()
    assert (d.max_request_bytes, d.login_delay_max_s, d.session_idle_minutes) == (1048576, 60, 720)
    assert (d.login_limit_account, d.login_limit_account_total) == ("5 per 15 minutes", "50 per 15 minutes")
    s = Settings.from_env({"MAX_REQUEST_BYTES": "2097152", "LOGIN_DELAY_MAX_S": "30", "SESSION_IDLE_MINUTES": "60",
                           "LOGIN_LIMIT_ACCOUNT_TOTAL": "100 per hour"})
    assert (s.max_request_bytes, s.login_delay_max_s, s.session_idle_minutes) == (2097152, 30, 60)
    assert s.login_limit_account_total == "100 per hour"


@pytest.mark.parametrize("env, name", [
    ({"MAX_REQUEST_BYTES": "lots"}, "MAX_REQUEST_BYTES"), ({"MAX_REQUEST_BYTES": "100"}, "MAX_REQUEST_BYTES"),
    ({"LOGIN_DELAY_MAX_S": "0"}, "LOGIN_DELAY_MAX_S"), ({"LOGIN_DELAY_MAX_S": "1.5"}, "LOGIN_DELAY_MAX_S"),
    ({"SESSION_IDLE_MINUTES": "-1"}, "SESSION_IDLE_MINUTES"),
    ({"LOGIN_LIMIT_ACCOUNT": "five a minute"}, "LOGIN_LIMIT_ACCOUNT"),
    ({"LOGIN_LIMIT_ACCOUNT_TOTAL": ""}, None), ({"LOGIN_LIMIT_IP": "20 per fortnight"}, "LOGIN_LIMIT_IP"),
])
def test_bad_values_name_the_variable(env, name):
    if name is None:  # empty means the default
        assert Settings.from_env(env).login_limit_account_total == "50 per 15 minutes"
        return
    with pytest.raises(ValueError, match=name):
        Settings.from_env(env)


def test_types_are_checked_when_built_directly():
    with pytest.raises(ValueError, match="MAX_REQUEST_BYTES"):
        Settings(max_request_bytes="1048576")
    with pytest.raises(ValueError, match="LOGIN_LIMIT_ACCOUNT"):
        Settings(login_limit_account=5)
