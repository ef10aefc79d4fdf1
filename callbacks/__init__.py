"""Dash callbacks, one module per page, written with ``dash.callback``.

Dash keeps ``dash.callback`` registrations in a process-global registry that the
*first* app to serve a request consumes. The factory builds one app per test
(and per process in production), so this package takes the registrations once,
at import, and :func:`attach` gives every app its own copy. This touches Dash's
private ``dash._callback`` registry — no public API exists for several apps.
"""
from dash import _callback as _dash_callback

from callbacks import admin, admin_models, backtests, market, signals  # noqa: F401 - registers the callbacks

_MAP = dict(_dash_callback.GLOBAL_CALLBACK_MAP)
_LIST = list(_dash_callback.GLOBAL_CALLBACK_LIST)
_dash_callback.GLOBAL_CALLBACK_MAP.clear()
_dash_callback.GLOBAL_CALLBACK_LIST.clear()


def attach(app) -> None:
    """Register every page callback on ``app``."""
    app.callback_map.update(_MAP)
    app._callback_list.extend(_LIST)
