"""Crossings on aligned arrays (NaN never crosses): the building blocks of the conditions."""
from __future__ import annotations

import numpy as np


def prev(a: np.ndarray) -> np.ndarray:
    """``a`` shifted one bar later (index t holds a[t-1]; NaN at 0): only the past."""
    out = np.empty_like(a, dtype="float64")
    out[:1] = np.nan
    out[1:] = a[:-1]
    return out


def cross_up(a: np.ndarray, b) -> np.ndarray:
    """True on bar t when a[t-1] <= b[t-1] and a[t] > b[t]."""
    b = np.broadcast_to(np.asarray(b, dtype="float64"), a.shape)
    with np.errstate(invalid="ignore"):
        return (prev(a) <= prev(b)) & (a > b)


def cross_down(a: np.ndarray, b) -> np.ndarray:
    """True on bar t when a[t-1] >= b[t-1] and a[t] < b[t]."""
    b = np.broadcast_to(np.asarray(b, dtype="float64"), a.shape)
    with np.errstate(invalid="ignore"):
        return (prev(a) >= prev(b)) & (a < b)


def above(a: np.ndarray, level: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return a > level


def below(a: np.ndarray, level: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return a < level
