"""HTTP routes other than Dash's: report downloads today, the REST API under ``/api/v1`` later."""
from __future__ import annotations

from flask import Flask


def init_app(server: Flask) -> None:
    from app.api import audit, downloads

    server.register_blueprint(downloads.bp)
    server.register_blueprint(audit.bp)
