"""Each outside channel against a real local server on 127.0.0.1 (no worker): what arrives, and how
failures come back (retryable or not)."""
import datetime as dt
import json
import ssl

import pytest


from app.alerts.channels import Message, email, telegram, webhook
from tests.conftest import make_settings
from tests.fakes.alert_receivers import FakeTelegram, SMTPSink, WebhookReceiver

MSG = Message("Candlewise alert: BTC/USDT 1h", "BTC up: close crossing up 100 (value 101)",
              {"id": 7, "symbol": "BTC/USDT", "bar_time": "2026-01-01T00:00:00+00:00"}, "7:webhook")
pytestmark = pytest.mark.integration
SECRET = "s3cret-for-the-hmac-check"


@pytest.fixture
def hook():
    r = WebhookReceiver(SECRET)
    yield r
    r.close()


@pytest.fixture
def tg():
    t = FakeTelegram()
    yield t
    t.close()


def test_webhook_body_is_signed_and_formats_are_offered(hook):
    s = make_settings(alerts_allow_loopback=True)
    out = webhook.send(hook.url + "/h", SECRET, "json", MSG, s)
    assert out.ok and out.code == 200
    [r] = hook.received
    assert hook.verified(r) and json.loads(r["body"])["event"]["id"] == 7
    assert r["headers"]["X-Candlewise-Delivery"] == "7:webhook"
    tampered = dict(r, body=r["body"].replace(b"101", b"999"))
    assert not hook.verified(tampered)
    assert webhook.send(hook.url, SECRET, "discord", MSG, s).ok and "content" in json.loads(hook.received[-1]["body"])
    assert webhook.send(hook.url, SECRET, "slack", MSG, s).ok and "text" in json.loads(hook.received[-1]["body"])


def test_webhook_500_is_retryable_400_is_not_and_loopback_needs_the_setting(hook):
    s = make_settings(alerts_allow_loopback=True)
    hook.plan = [(500, {}, 0), (400, {}, 0)]
    first, second = webhook.send(hook.url, SECRET, "json", MSG, s), webhook.send(hook.url, SECRET, "json", MSG, s)
    assert (first.ok, first.retryable, first.code) == (False, True, 500)
    assert (second.ok, second.retryable, second.code) == (False, False, 400)
    n = len(hook.received)
    refused = webhook.send(hook.url, SECRET, "json", MSG, make_settings())
    assert not refused.ok and "public" in refused.error and len(hook.received) == n  # nothing sent


def test_telegram_send_message_and_429_retry_after_is_honoured(tg):
    s = make_settings(telegram_bot_token="123:ABC", telegram_base_url=tg.url)
    tg.plan = [(429, {"ok": False, "error_code": 429, "parameters": {"retry_after": 1}}, 0)]
    out = telegram.send("-1001", MSG, s)
    assert out.ok and "retry_after" in out.error and [p.code for p in out.prior] == [429]
    first, second = tg.received
    assert first["path"] == "/bot123:ABC/sendMessage" and second["t"] - first["t"] >= 1.0
    assert json.loads(second["body"])["chat_id"] == "-1001" and "BTC up" in json.loads(second["body"])["text"]


def test_telegram_per_chat_rate_limit_and_token_kept_out_of_errors(tg):
    s = make_settings(telegram_bot_token="123:SECRET-TOKEN", telegram_base_url=tg.url, telegram_per_chat_per_min=2)
    from limits.storage import MemoryStorage

    store = MemoryStorage()
    assert telegram.send("42", MSG, s, store=store).ok and telegram.send("42", MSG, s, store=store).ok
    third = telegram.send("42", MSG, s, store=store)
    assert not third.ok and third.retryable and "rate limit" in third.error and len(tg.received) == 2
    assert telegram.send("43", MSG, s, store=store).ok  # another chat has its own window
    down = telegram.send("44", MSG, make_settings(telegram_bot_token="123:SECRET-TOKEN",
                                                  telegram_base_url="http://127.0.0.1:9"), store=store)
    assert not down.ok and down.retryable and "SECRET-TOKEN" not in down.error


def _self_signed():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress
    import tempfile

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256()))
    d = tempfile.mkdtemp()
    cert_path, key_path = f"{d}/c.pem", f"{d}/k.pem"
    open(cert_path, "wb").write(cert.public_bytes(serialization.Encoding.PEM))
    open(key_path, "wb").write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    return cert_path, key_path


def test_email_over_starttls_with_plain_text_and_html_parts():
    cert, key = _self_signed()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    sink = SMTPSink(tls_context=server_ctx)
    try:
        s = make_settings(smtp_host="127.0.0.1", smtp_port=sink.port, smtp_starttls=True)
        client_ctx = ssl.create_default_context(cafile=cert)
        out = email.send("trader@example.com", MSG, s, tls_context=client_ctx)
        assert out.ok, out
        [m] = sink.messages
        assert m["To"] == "trader@example.com" and m["Subject"] == MSG.title
        types = [p.get_content_type() for p in m.walk()]
        assert "text/plain" in types and "text/html" in types
        # without STARTTLS the server (which requires it) refuses the mail
        plain = email.send("trader@example.com", MSG, s.with_(smtp_starttls=False))
        assert not plain.ok and len(sink.messages) == 1
    finally:
        sink.close()
