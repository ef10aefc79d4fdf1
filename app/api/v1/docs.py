"""The interactive API docs at ``/api/v1/docs``: Swagger UI served by the app itself, no CDN.

The Swagger UI files come from the ``flask-swagger-ui`` wheel (its ``dist`` folder); the page and its
start-up script are ours (a script file, since the Content-Security-Policy allows no inline script).
The page and the OpenAPI document are public (they describe the API, every operation still needs
a token); the request guard lets ``/api/v1/`` through for that reason.
"""
from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, abort, send_from_directory

SWAGGER_DIST = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css", "index.css",
                    "favicon-32x32.png"})
HERE = Path(__file__).resolve().parent / "static"

bp = Blueprint("api_docs_page", __name__, url_prefix="/api/v1/docs")

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Candlewise API v1</title>
  <link rel="stylesheet" href="/api/v1/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/api/v1/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/v1/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/api/v1/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/api/v1/docs/assets/docs-init.js"></script>
</body>
</html>
"""


@bp.get("")
def page():
    return Response(PAGE, mimetype="text/html")


@bp.get("/assets/<name>")
def asset(name: str):
    if name == "docs-init.js":
        return send_from_directory(HERE, name, max_age=3600)
    if name not in ASSETS:
        abort(404)
    return send_from_directory(SWAGGER_DIST, name, max_age=86400)
