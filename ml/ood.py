"""When not to trust the model: input windows outside the training distribution.

The rule: a window is *out of distribution* when any feature value in it, in
the training scaler's z-scores, lies more than ``margin`` standard deviations
(default 0.5) below the smallest or above the largest value of that feature in
the training span.  The network has never seen such an input, so its output
says nothing reliable about it: inference withholds the prediction and says
which feature, at which bar, left the range.

``FeatureRange`` is fitted on the same (scaled) feature rows as the scaler —
the training span only — and stored with the model version.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_MARGIN = 0.5


@dataclass(frozen=True)
class FeatureRange:
    lo: np.ndarray                 # per feature: smallest training z-score
    hi: np.ndarray                 # per feature: largest training z-score
    features: tuple[str, ...]
    margin: float = DEFAULT_MARGIN

    @classmethod
    def fit(cls, z_rows: np.ndarray, features, margin: float = DEFAULT_MARGIN) -> FeatureRange:
        z = np.asarray(z_rows, dtype=np.float64)
        features = tuple(features)
        if z.ndim != 2 or len(z) < 2 or z.shape[1] != len(features) or not np.isfinite(z).all():
            raise ValueError("the training range needs at least 2 finite rows with one column per feature")
        if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin <= 100:
            raise ValueError(f"margin must be a number of standard deviations in [0, 100], got {margin!r}")
        return cls(z.min(axis=0), z.max(axis=0), features, float(margin))

    def outside(self, x: np.ndarray) -> np.ndarray:
        """(N, lookback, F) windows -> (N, lookback, F) booleans: value outside the widened range."""
        x = np.asarray(x, dtype=np.float64)
        return (x < self.lo - self.margin) | (x > self.hi + self.margin) | ~np.isfinite(x)

    def flags(self, x: np.ndarray) -> np.ndarray:
        """(N, lookback, F) windows -> (N,) True where the window is out of distribution."""
        if len(x) == 0:
            return np.zeros(0, dtype=bool)
        return self.outside(x).any(axis=(1, 2))

    def reason(self, window: np.ndarray, times=None) -> str | None:
        """Why one (lookback, F) window is out of distribution, or None when it is inside.

        Names the worst offending feature (largest excess over the range) and its bar."""
        w = np.asarray(window, dtype=np.float64)
        bad = self.outside(w[None])[0]
        if not bad.any():
            return None
        excess = np.where(np.isfinite(w), np.maximum(self.lo - w, w - self.hi), np.inf)
        excess = np.where(bad, excess, -np.inf)
        row, col = np.unravel_index(int(np.argmax(excess)), excess.shape)
        when = f" at {times[row].isoformat()}" if times is not None else f" {w.shape[0] - 1 - row} bars ago"
        return (f"input out of the training distribution: {self.features[col]}{when} is {w[row, col]:+.2f} "
                f"standard deviations, outside the training range [{self.lo[col]:+.2f}, {self.hi[col]:+.2f}] "
                f"widened by {self.margin:g}")

    def to_dict(self) -> dict:
        return {"lo": self.lo.tolist(), "hi": self.hi.tolist(), "features": list(self.features),
                "margin": self.margin,
                "rule": "any feature z-score in the window beyond the training span's [min, max] by more than margin"}

    @classmethod
    def from_dict(cls, data: dict | None) -> FeatureRange | None:
        if not data:
            return None
        return cls(np.asarray(data["lo"], dtype=np.float64), np.asarray(data["hi"], dtype=np.float64),
                   tuple(data["features"]), float(data["margin"]))
