from cryptography.fernet import Fernet
import pytest

from app.alerts.secrets import decrypt, encrypt, fernet_key
from app.settings import Settings


def test_secrets_round_trip_and_are_not_stored_in_clear():
    key = fernet_key(None, "a-secret-key-for-tests")
    token = encrypt(key, "hunter2hunter2hunter2")
    assert "hunter2" not in token and decrypt(key, token) == "hunter2hunter2hunter2"
    other = fernet_key(Fernet.generate_key().decode(), "x")
    with pytest.raises(ValueError, match="cannot be decrypted"):
        decrypt(other, token)


def test_production_refuses_to_start_without_an_alerts_key():
    s = Settings(env="production", secret_key="k" * 32)
    with pytest.raises(ValueError, match="ALERTS_SECRET_KEY"):
        s.require_alerts_key()
    Settings(env="production", secret_key="k" * 32, alerts_key=Fernet.generate_key().decode()).require_alerts_key()
    with pytest.raises(ValueError, match="Fernet key"):
        Settings(alerts_key="not-a-key")
    with pytest.raises(ValueError, match="ALERTS_ALLOW_LOOPBACK"):
        Settings(env="production", secret_key="k" * 32, alerts_allow_loopback=True)
    from app.server import create_server

    with pytest.raises(ValueError, match="ALERTS_SECRET_KEY"):
        create_server(s)
