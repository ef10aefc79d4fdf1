"""How a refused callback input is answered: its field's message, never a 500.

``show_invalid_input`` is the Dash app's ``on_error`` (``app.create_app``). A callback's schema
(``callbacks.inputs``) raises ``app.validation.InvalidInput``; the handler shows the message in the
component the schema named (``show_in``) or in the shell's message bar, and changes no output.
Every other error is re-raised unchanged (a 403 stays a 403, a bug stays visible).

Not a page (Dash's page discovery skips modules starting with ``_``), and importable before the
Dash app exists.
"""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import set_props

from app.validation import InvalidInput

SHELL_MSG = "shell-input-error"


def message_bar() -> dbc.Alert:
    """The shell's bar for refused inputs (closed until a callback's input is refused)."""
    return dbc.Alert(id=SHELL_MSG, is_open=False, dismissable=True, color="danger", className="mx-3")


def show_invalid_input(err: Exception):
    if not isinstance(err, InvalidInput):
        raise err
    target = getattr(err, "show_in", None) or SHELL_MSG
    alert = dbc.Alert(err.message, color="danger", className="mb-0", id=f"{target}-invalid")
    if target == SHELL_MSG:
        set_props(SHELL_MSG, {"children": err.message, "is_open": True})
    else:
        set_props(target, {"children": alert})
    return None  # Dash answers no_update for every output
