"""Dash callbacks, one module per page, written with ``dash.callback``.

Importing this package registers them in Dash's process-wide registry; the process's one Dash app
(``app.create_app``) takes them on its first request.
"""
from callbacks import (admin, admin_audit, admin_controls, admin_markets, admin_models, admin_system, admin_users,  # noqa: F401,E501
                       alerts,
                       backtests, market, market_feed, portfolio, shell, signals)  # registers the callbacks
