"""Dash callbacks, one module per page, registered with ``dash.callback`` on first import."""
from callbacks import admin, market  # noqa: F401
