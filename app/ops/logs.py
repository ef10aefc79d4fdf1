"""JSON logging with a request id on every line."""
from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            doc["request_id"] = getattr(g, "request_id", None)
            doc["path"] = request.path
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def configure_logging(json_logs: bool) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_candlewise", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._candlewise = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if json_logs else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def init_app(server: Flask) -> None:
    @server.before_request
    def _request_id():
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex[:16]

    @server.after_request
    def _echo_request_id(response):
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        return response
