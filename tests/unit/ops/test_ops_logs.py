"""app/ops/logs.py: redaction, JSON lines, request ids."""
from __future__ import annotations

import io
import json
import logging

import pytest

from app.ops.logs import REDACTED, configure_logging, make_handler, redact, request_id_from

SECRET = "Tr0ub4dor&3-horse"


@pytest.mark.parametrize("text", [
    f"email=ann%40example.com&password={SECRET}&next=%2F",
    f"form {{'email': 'ann@example.com', 'password': '{SECRET}'}}",
    f'{{"password": "{SECRET}", "email": "ann@example.com"}}',
    f"Authorization: Bearer {SECRET}",
    f"headers {{'Authorization': 'Basic {SECRET}'}}",
    f"connecting to postgresql://candlewise:{SECRET}@postgres:5432/candlewise",
    f"METRICS_TOKEN={SECRET}",
    f"secret_key: {SECRET}",
    f"Cookie: session={SECRET}",
    f"api_key={SECRET}",
])
def test_redact_removes_the_secret(text):
    out = redact(text)
    assert SECRET not in out and "horse" not in out
    assert REDACTED in out


def test_redact_keeps_ordinary_text():
    text = "password must be at least 10 characters; GET /backtests 200 in 12 ms"
    assert redact(text) == text
    assert redact("postgresql://postgres@127.0.0.1:5432/test") == "postgresql://postgres@127.0.0.1:5432/test"


def _capture(json_logs: bool = True):
    stream = io.StringIO()
    logger = logging.getLogger(f"cw-test-{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(make_handler(json_logs, stream))
    return logger, stream


def test_json_lines_parse_and_carry_fields_with_secrets_redacted():
    logger, stream = _capture()
    logger.info("login for %s with %s", "ann@example.com", {"password": SECRET},
                extra={"token": SECRET, "detail": {"client_secret": SECRET, "ok": 1}, "n": 3})
    try:
        raise RuntimeError(f"db said password={SECRET}")
    except RuntimeError:
        logger.exception("boom")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert first["level"] == "INFO" and first["logger"].startswith("cw-test-")
    assert first["time"].endswith("+00:00")  # UTC
    assert first["token"] == REDACTED and first["detail"] == {"client_secret": REDACTED, "ok": 1}
    assert first["n"] == 3 and "ann@example.com" in first["message"]
    assert "RuntimeError" in second["exc"] and second["message"] == "boom"
    assert SECRET not in stream.getvalue()


def test_text_handler_redacts_too():
    logger, stream = _capture(json_logs=False)
    logger.warning("retrying with Authorization: Bearer %s", SECRET)
    assert SECRET not in stream.getvalue() and "Authorization: [REDACTED]" in stream.getvalue()


def test_configure_logging_installs_one_handler_and_switches_format():
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        configure_logging(json_logs=True)
        configure_logging(json_logs=True)
        mine = [h for h in root.handlers if getattr(h, "_candlewise", None)]
        assert len(mine) == 1 and mine[0]._candlewise == "json"
        configure_logging(json_logs=False, level="warning")
        mine = [h for h in root.handlers if getattr(h, "_candlewise", None)]
        assert len(mine) == 1 and mine[0]._candlewise == "text" and root.level == logging.WARNING
    finally:
        for h in list(root.handlers):
            if h not in before:
                root.removeHandler(h)
        for h in before:
            if h not in root.handlers:
                root.addHandler(h)
        root.setLevel(logging.INFO)


def test_request_id_from_header_is_checked():
    assert request_id_from("abc-123_x.y:z") == "abc-123_x.y:z"
    for bad in (None, "", "has space", "x" * 129, "evil\nINJECTED", "<script>"):
        made = request_id_from(bad)
        assert made != bad and len(made) == 32 and made.isalnum()
