"""The signal-quality table both real-data benches print: one row per (horizon, label) with the edge over
the base rate and the hit rate over chance, each with its 95 % interval, and a ``RESULT`` line per figure.

``bench/ml_real.py`` prints it next to the LSTM's evaluation; ``bench/signal_quality_real.py`` adds the
verdict per cell (does the label's interval lie on the side its name claims?)."""
from __future__ import annotations

import numpy as np

from app.analysis.quality import BULLISH

HEADER = (f"  {'h':>3s} {'label':11s} {'count':>6s} {'mean %':>8s} {'edge % [95 % CI]':>28s} "
          f"{'hit':>6s} {'hit - chance [95 % CI]':>28s}")


def result(name: str, value, unit: str) -> None:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        value = "nan"
    elif isinstance(value, float):
        value = f"{value:.4f}"
    print(f"RESULT {name} {value} {unit}")


def verdict(label: str, ci_low: float, ci_high: float) -> str:
    """'support' when the label's edge interval lies wholly on the side its name claims, 'contradict'
    when wholly on the other, 'undecided' when it contains 0; '' for the base rate and neutral rows."""
    if label in ("all", "neutral"):
        return ""
    sign = 1.0 if label in BULLISH else -1.0
    lo, hi = sorted((sign * ci_low, sign * ci_high))
    return "support" if lo > 0 else "contradict" if hi < 0 else "undecided"


def print_rows(key: str, table, with_verdict: bool = False) -> dict:
    """Print ``table`` (``signal_quality_ci``'s frame) and its RESULT lines; return the verdict tally."""
    tally = {"support": 0, "contradict": 0, "undecided": 0}
    print(HEADER)
    for r in table.itertuples():
        if r.count == 0:
            print(f"  {r.horizon:3d} {r.label:11s} {0:6d}")
            continue
        said = verdict(r.label, r.edge_ci_low, r.edge_ci_high) if with_verdict else ""
        if said:
            tally[said] += 1
        hit = "" if np.isnan(r.hit_rate) else (f"{r.hit_rate:6.3f} {r.hit_edge:+8.3f} "
                                                f"[{r.hit_edge_ci_low:+.3f}, {r.hit_edge_ci_high:+.3f}]")
        print(f"  {r.horizon:3d} {r.label:11s} {r.count:6d} {r.mean_return_pct:8.3f} {r.edge_pct:+9.3f} "
              f"[{r.edge_ci_low:+.3f}, {r.edge_ci_high:+.3f}]  {hit:38s} {said}".rstrip())
        if r.label == "all":
            if with_verdict:
                result(f"{key}_base_mean_return_h{r.horizon}", r.mean_return_pct, "pct")
            continue
        tag = f"{key}_signal_{r.label.replace(' ', '_')}_h{r.horizon}"
        result(f"{tag}_count", int(r.count), "bars")
        result(f"{tag}_edge_pct", r.edge_pct, "pct")
        result(f"{tag}_edge_ci_low", r.edge_ci_low, "pct")
        result(f"{tag}_edge_ci_high", r.edge_ci_high, "pct")
        if not np.isnan(r.hit_rate):
            result(f"{tag}_hit_edge", r.hit_edge, "fraction")
            result(f"{tag}_hit_edge_ci_low", r.hit_edge_ci_low, "fraction")
            result(f"{tag}_hit_edge_ci_high", r.hit_edge_ci_high, "fraction")
    if with_verdict:
        for name, n in tally.items():
            result(f"{key}_labels_{name}", n, "label_horizons")
    return tally
