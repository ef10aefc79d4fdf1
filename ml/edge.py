"""The one rule for "does the model have an edge?".

A model has an edge when its out-of-sample log loss (by default; Brier works
too) is lower than every naive baseline's: the training share of up bars
(``base_rate``) and P(up | direction of the last bar) (``persistence``).
Since calibration, the ``lstm`` entry of a walk-forward summary holds the
*calibrated* probabilities, so this asks whether the p(up) shown to traders
beats always saying the base rate.  Anything else is labelled "no edge".

Every place that shows or acts on that verdict (the registry's promotion
rule, ``WalkForward.beats_baselines``, the pages) should call ``edge_verdict``
instead of comparing numbers itself.
"""
from __future__ import annotations

NAIVE_BASELINES = ("base_rate", "persistence")
EDGE = "beats baselines"
NO_EDGE = "no edge"


def edge_verdict(summary: dict | None, metric: str = "log_loss", model: str = "lstm") -> tuple[bool, str]:
    """(has an edge?, why) from a walk-forward summary ``{model: metrics}``."""
    if metric not in ("log_loss", "brier"):
        raise ValueError(f"the edge rule compares log_loss or brier, got {metric!r}")
    mine = ((summary or {}).get(model) or {}).get(metric)
    if mine is None:
        return False, "no out-of-sample evaluation"
    for base in NAIVE_BASELINES:
        theirs = (summary.get(base) or {}).get(metric)
        if theirs is None:
            return False, f"no out-of-sample {base} baseline to compare with"
        if not mine < theirs:
            return False, f"out-of-sample {metric} {mine:.5f} does not beat {base} ({theirs:.5f})"
    return True, f"out-of-sample {metric} {mine:.5f} beats the baselines"


def has_edge(summary: dict | None, metric: str = "log_loss") -> bool:
    return edge_verdict(summary, metric)[0]


def edge_label(summary: dict | None, metric: str = "log_loss") -> str:
    """What a page shows next to the model: "beats baselines" or "no edge"."""
    return EDGE if has_edge(summary, metric) else NO_EDGE
