"""Logging: JSON lines in production (python-json-logger), a request id on every line, secrets redacted.

- :func:`make_handler` builds the one handler Candlewise logs through: JSON or plain text, with
  :class:`RequestContext` (adds ``request_id`` and ``user_id`` inside a request) and
  :class:`RedactSecrets` (scrubs anything that looks like a password, token, secret, cookie or
  ``Authorization`` value — in the message, its arguments, extra fields and tracebacks).
- :func:`configure_logging` puts it on the root logger once per process (gunicorn's
  ``logconfig_dict`` in ``deploy/gunicorn.conf.py`` installs the same handler in the master).
- :func:`init_app` takes the request id from ``X-Request-ID`` (nginx passes the client's or its own)
  or makes one, echoes it on the response and writes one ``request`` line per request with the
  method, path, endpoint, status, latency and user id.
"""
from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any, TextIO

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

REDACTED = "[REDACTED]"
REQUEST_LOGGER = "candlewise.request"
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
SENSITIVE_WORDS = r"password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|authorization|cookie|credential"
_SENSITIVE_KEY = re.compile(rf"(?i)({SENSITIVE_WORDS})")
# key=value, key: value, "key": "value", 'key': 'value' (form bodies, query strings, dict reprs, headers)
_PAIR = re.compile(
    rf"""(?ix)
    (?P<key>[\w.-]*(?:{SENSITIVE_WORDS})[\w.-]*)
    (?P<kq>["']?)
    (?P<sep>\s*[:=]\s*)
    (?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|
       # a bare value ends at a space, a separator or "&name=" (the next field of a form body)
       (?P<bare>(?:bearer|basic)\s+(?:\[REDACTED\]|[^\s,;"']+)|(?:[^\s,;"'}}\]\)&]|&(?![\w.-]+=))+))
    """
)
_AUTH_SCHEME = re.compile(r"(?i)\b(bearer|basic)\s+[^\s,;\"']+")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+):([^\s@/]+)@")
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {"message", "asctime"}


def _pair_sub(m: re.Match) -> str:
    if m.group("dq") is not None:
        value = f'"{REDACTED}"'
    elif m.group("sq") is not None:
        value = f"'{REDACTED}'"
    else:
        value = REDACTED
    return f"{m.group('key')}{m.group('kq')}{m.group('sep')}{value}"


def redact(text: str) -> str:
    """``text`` with credential-looking values replaced by ``[REDACTED]``."""
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{REDACTED}@", text)
    return _PAIR.sub(_pair_sub, text)


def redact_value(value: Any, key: str | None = None) -> Any:
    """Redact a structured value: sensitive keys lose their values, strings are scrubbed."""
    if key is not None and _SENSITIVE_KEY.search(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    return value


class RedactSecrets(logging.Filter):
    """Scrub passwords, tokens, secrets, cookies and Authorization values from a record in place."""

    _exc_formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):
            record.msg = redact_value(record.msg)
        else:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a bad format string still gets logged (scrubbed)
                message = f"{record.msg} {record.args}"
            record.msg, record.args = redact(str(message)), None
        if record.exc_info:
            record.exc_text = redact(self._exc_formatter.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        for key in [k for k in vars(record) if k not in _RECORD_ATTRS]:
            setattr(record, key, redact_value(getattr(record, key), key))
        return True


class RequestContext(logging.Filter):
    """Add ``request_id`` and ``user_id`` to every record logged while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            if not hasattr(record, "request_id"):
                record.request_id = g.get("request_id")
            if not hasattr(record, "user_id"):
                record.user_id = _user_id()
        return True


def _user_id() -> str | None:
    # only a user Flask-Login already loaded for this request: logging never costs a query. The numeric
    # id, never get_id(): that is the session token the cookie carries, a secret.
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return str(getattr(user, "id", "")) or None


def json_formatter() -> JsonFormatter:
    # "time": ISO 8601 in UTC with microseconds, from the record's own creation time
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger", "exc_info": "exc"},
        timestamp="time",
    )


def text_formatter() -> logging.Formatter:
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def make_handler(json_logs: bool, stream: TextIO | None = None) -> logging.Handler:
    """The handler Candlewise logs through (also gunicorn's, via ``logconfig_dict``)."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(json_formatter() if json_logs else text_formatter())
    handler.addFilter(RequestContext())
    handler.addFilter(RedactSecrets())
    handler._candlewise = "json" if json_logs else "text"  # type: ignore[attr-defined]
    return handler


def configure_logging(json_logs: bool, level: str = "INFO") -> None:
    """Install the handler on the root logger, once per process (replaced if the format changes)."""
    root = logging.getLogger()
    wanted = "json" if json_logs else "text"
    mine = [h for h in root.handlers if getattr(h, "_candlewise", None)]
    if any(h._candlewise == wanted for h in mine):  # type: ignore[attr-defined]
        root.setLevel(level.upper())
        return
    for old in mine:
        root.removeHandler(old)
    root.addHandler(make_handler(json_logs))
    root.setLevel(level.upper())


def request_id_from(header: str | None) -> str:
    """The caller's ``X-Request-ID`` if it is a sane token, else a fresh one."""
    if header and _REQUEST_ID_OK.match(header):
        return header
    return uuid.uuid4().hex


def init_app(server: Flask) -> None:
    log = logging.getLogger(REQUEST_LOGGER)

    @server.before_request
    def _request_id():
        g.request_id = request_id_from(request.headers.get("X-Request-ID"))
        g.request_started = time.perf_counter()

    @server.after_request
    def _log_request(response):
        request_id = g.get("request_id") or request_id_from(None)
        response.headers["X-Request-ID"] = request_id
        started = g.get("request_started")
        latency_ms = round((time.perf_counter() - started) * 1000, 2) if started is not None else None
        log.info(
            "%s %s %s", request.method, request.path, response.status_code,
            extra={
                "request_id": request_id,
                "user_id": _user_id(),
                "method": request.method,
                "path": request.path,
                "endpoint": request.url_rule.rule if request.url_rule is not None else None,
                "status": response.status_code,
                "latency_ms": latency_ms,
                "remote_addr": request.remote_addr,
            },
        )
        return response
