"""Volume spike: the bar's volume z-score against the *previous* ``window`` bars (population std)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from app.alerts.bars import Bars


def volume_z(volume: np.ndarray, window: int) -> np.ndarray:
    """(v[t] - mean(v[t-window..t-1])) / std(same): the bar itself is not in its own baseline."""
    prev = pd.Series(volume).shift(1)
    mean = prev.rolling(window).mean()
    std = prev.rolling(window).std(ddof=0)
    z = (pd.Series(volume) - mean) / std
    return z.where(std > 1e-12 * mean.abs()).to_numpy(dtype="float64")


def volume_spike(bars: Bars, params: dict):
    z = volume_z(bars.volume, params["window"])
    with np.errstate(invalid="ignore"):
        return z >= params["z"], z
