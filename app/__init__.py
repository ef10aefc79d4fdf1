"""Candlewise: ``create_app`` builds the web process — the Flask server plus the Dash pages.

``create_server`` (``app/server.py``) builds the server alone; workers, cron and CLI commands use
that. Dash keeps its page and callback registries per process, so a process builds one Dash app.

Importing ``app`` (as every ``app.*`` import does) loads nothing heavy: Dash is imported inside
:func:`create_app`, so a worker that builds only the server never loads it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dash

    from app.settings import Settings


def create_app(settings: "Settings | None" = None) -> "dash.Dash":
    """Build the Dash app (with its Flask server at ``.server``) from ``settings`` or the environment.

    ``dash.callback`` registrations are global and taken by the first app that serves a request,
    so build one Dash app per process (tests share a session-scoped one).
    """
    import dash

    from app.server import create_server
    from app.settings import ROOT
    from app.theme import ICONS_CSS, THEME_CSS

    from pages._input_errors import show_invalid_input

    server = create_server(settings)
    app = dash.Dash(
        "candlewise",
        server=server,
        use_pages=True,
        pages_folder=str(ROOT / "pages"),
        assets_folder=str(ROOT / "app" / "assets"),
        external_stylesheets=[THEME_CSS, ICONS_CSS],
        suppress_callback_exceptions=True,
        title="Candlewise",
        update_title=None,
        serve_locally=True,
        on_error=show_invalid_input,  # a refused input answers with its field's message, not a 500
    )
    import callbacks  # noqa: F401 - registers every page's callbacks with dash.callback
    from pages._shell import layout as shell_layout

    app.layout = shell_layout
    from app.ops import callback_envelope, security

    security.init_dash(app)
    callback_envelope.init_dash(app)  # a malformed callback request is a 400, not a 500 inside Dash
    return app
