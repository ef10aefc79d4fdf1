"""Bootstrap theme and icons served by the app itself (no CDN; see shared/recipes/offline-assets.md).

bootstrap-flask ships Bootswatch and Bootstrap Icons in its wheel. Bootswatch's
Darkly starts with ``@import url(https://fonts.googleapis.com/...)``, which would
leak every page view to Google and stall rendering offline, so the theme is
served from ``/theme/darkly.css`` with remote ``@import`` rules removed (the
font stack falls back to the system sans-serif).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import flask_bootstrap
from flask import Blueprint, Response, send_from_directory

THEME = "darkly"
THEME_CSS = f"/theme/{THEME}.css"
ICONS_CSS = "/theme/icons/bootstrap-icons.min.css"
_REMOTE_IMPORT = re.compile(r"@import\s+url\((['\"]?)(?:https?:)?//[^)]*\1\)\s*;?")
_CSS = Path(flask_bootstrap.__file__).parent / "static" / "bootstrap5" / "css"
_STATIC = _CSS / "bootswatch"
_ICONS = _CSS / "font"  # bootstrap-icons.min.css and fonts/

bp = Blueprint("theme", __name__)


@lru_cache(maxsize=4)
def theme_css(name: str) -> str:
    """The Bootswatch stylesheet with every remote @import removed (static file content, not data)."""
    return _REMOTE_IMPORT.sub("", (_STATIC / name / "bootstrap.min.css").read_text(encoding="utf-8"))


@bp.get("/theme/<name>.css")
def serve_theme(name: str):
    if not re.fullmatch(r"[a-z]{3,20}", name) or not (_STATIC / name).is_dir():
        return Response("unknown theme", status=404, mimetype="text/plain")
    resp = Response(theme_css(name), mimetype="text/css")
    resp.cache_control.public = True
    resp.cache_control.max_age = 86400
    return resp


@bp.get("/theme/icons/<path:filename>")
def serve_icons(filename: str):
    """Bootstrap Icons' stylesheet and its fonts (send_from_directory refuses paths outside the folder)."""
    return send_from_directory(_ICONS, filename, max_age=86400)
