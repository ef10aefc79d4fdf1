"""Make p(up) mean what it says: a calibrator fitted on the validation tail only.

The network's raw outputs are mapped to calibrated probabilities by a
monotone function fitted on the time-ordered validation tail of the training
span (the same bars early stopping watched; never the test span, never bars
after the model's training span):

* ``platt`` (default): logistic regression (scikit-learn) of the label on the
  standardised logit of the raw output, ``p = sigmoid(a * logit(raw) + b)``.
  Two parameters, so a few hundred validation bars are enough; when the raw
  output carries no information the slope goes to 0 and p becomes the
  validation tail's up share.
* ``isotonic``: scikit-learn's isotonic regression (a monotone step function,
  linearly interpolated, clipped at the ends); needs more data than Platt.
* ``none``: the identity, for comparison.

``Calibrator`` is plain numbers (``to_dict`` / ``from_dict``) so it is stored
in a model version's ``meta.json`` and applied without scikit-learn.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

METHODS = ("platt", "isotonic", "none")
EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class Calibrator:
    method: str
    params: dict = field(default_factory=dict)
    n: int = 0                        # validation samples it was fitted on

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"calibration method must be one of {', '.join(METHODS)}, got {self.method!r}")

    def apply(self, p_raw) -> np.ndarray:
        p = np.asarray(p_raw, dtype=np.float64)
        if self.method == "platt":
            z = self.params["a"] * _logit(p) + self.params["b"]
            return 1.0 / (1.0 + np.exp(-z))
        if self.method == "isotonic":
            return np.interp(p, self.params["x"], self.params["y"])
        return p.copy()

    def to_dict(self) -> dict:
        return {"method": self.method, "params": self.params, "n": self.n}

    @classmethod
    def from_dict(cls, data: dict | None) -> Calibrator | None:
        if not data:
            return None
        return cls(data["method"], dict(data.get("params") or {}), int(data.get("n", 0)))


IDENTITY = Calibrator("none")


def fit_calibrator(p_raw, y, method: str = "platt") -> Calibrator:
    """Fit on (raw output, label) pairs of the validation tail; see the module docstring."""
    if method not in METHODS:
        raise ValueError(f"calibration method must be one of {', '.join(METHODS)}, got {method!r}")
    p = np.asarray(p_raw, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if p.ndim != 1 or p.shape != y.shape or len(p) < 2:
        raise ValueError("the calibrator needs at least 2 (prediction, label) pairs of the same length")
    if not np.isfinite(p).all() or not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("calibration needs finite predictions and 0/1 labels")
    if method == "none":
        return Calibrator("none", {}, len(p))
    if y.min() == y.max():                          # one class only: the tail's share is all we know
        share = float(np.clip(y.mean(), EPS, 1 - EPS))
        return Calibrator("platt", {"a": 0.0, "b": float(np.log(share / (1 - share)))}, len(p))
    if method == "platt":
        from sklearn.linear_model import LogisticRegression

        x = _logit(p)
        mu, sd = float(x.mean()), float(x.std())
        sd = sd if sd > 1e-12 else 1.0
        lr = LogisticRegression(C=1.0).fit(((x - mu) / sd)[:, None], y)
        a = float(lr.coef_[0, 0]) / sd
        b = float(lr.intercept_[0]) - a * mu
        return Calibrator("platt", {"a": a, "b": b}, len(p))
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
    return Calibrator("isotonic", {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}, len(p))
