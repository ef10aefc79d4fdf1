"""Dash callbacks, one module per page, written with ``dash.callback``.

Importing this package registers them in Dash's process-wide registry; the process's one Dash app
(``app.create_app``) takes them on its first request.
"""
from callbacks import (admin, admin_audit, admin_controls, admin_models, admin_system, admin_users, alerts,  # noqa: F401
                       backtests, market, portfolio, shell, signals)  # registers the callbacks
