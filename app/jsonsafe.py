"""JSON-safe values: what every stored or exported document does with numpy numbers, NaN and times.

Non-finite floats become ``None`` (JSON has no NaN; the reason lives elsewhere, e.g. a metric's
note), numpy scalars become Python numbers, timestamps become ISO-8601 text, and dicts, lists and
tuples are converted all the way down.
"""
from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pandas as pd


def json_safe(value):
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    return value
