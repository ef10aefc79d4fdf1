"""HTTP routes other than Dash's: report downloads, the token page and the REST API under ``/api/v1``."""
from __future__ import annotations

from flask import Flask


def init_app(server: Flask) -> None:
    from app.api import audit, downloads, token_page, v1

    server.register_blueprint(downloads.bp)
    server.register_blueprint(audit.bp)
    server.register_blueprint(token_page.bp)
    v1.init_app(server)
