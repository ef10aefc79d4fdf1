"""The shell's emergency-stop banner, refreshed by interval (one hot-state read per tick) for every
signed-in user; the Admin page's stop/resume callbacks also set it at once."""
from __future__ import annotations

from dash import Input, Output, callback

import app.hot as hot
from callbacks import inputs
from pages._shell import DEGRADED_BANNER, STOP_BANNER, STOP_POLL, degraded_banner, stop_banner


@callback(Output(STOP_BANNER, "children"), Input(STOP_POLL, "n_intervals"), prevent_initial_call=True)
def refresh_stop_banner(_n):
    return stop_banner(hot.system_state().stopped())


@callback(Output(DEGRADED_BANNER, "children"), Input(STOP_POLL, "n_intervals"), prevent_initial_call=True)
def refresh_degraded_banner(n):
    """The degraded-mode banner (Redis unreachable from this web process), on the stop banner's interval."""
    inputs.SHELL_TICK(n)
    hot.system_state().stopped()  # one hot-state read: lets the breaker try Redis again
    return degraded_banner()
