"""Property-based input fuzzing (Hypothesis): every edge either refuses an input with a message naming
the field, or returns a valid result; no other exception escapes and nothing is written on a refusal.

Examples are bounded (``fuzz`` profile) so the whole directory runs in well under a minute here.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, settings, strategies as st

_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much,
          HealthCheck.data_too_large, HealthCheck.nested_given]
settings.register_profile("fuzz", max_examples=60, deadline=None, suppress_health_check=_QUIET)
# a longer hunt by hand: CW_FUZZ_PROFILE=fuzz-deep pytest tests/fuzz
settings.register_profile("fuzz-deep", max_examples=1000, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("CW_FUZZ_PROFILE", "fuzz"))

# any JSON-ish value a form, a callback or an API body could carry
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**20, max_value=10**20),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
                    st.sampled_from(["", " ", "0", "-1", "1e309", "nan", "inf", "NaN", "1,5", "2026-01-01",
                                     "2026-13-45", "9999-12-31", "*", "\x00", "BTC/USDT", "1h", "🚀"]))
junk = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                    max_leaves=8)


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory):
    """One migrated Flask server on its own SQLite file for the module (Hypothesis re-runs the test body
    many times; a function-scoped database per example would dominate the run time)."""
    from tests.conftest import dispose, make_settings, migrate_app

    from app.server import create_server

    server = create_server(make_settings(tmp_path_factory.mktemp("fuzz-db")))
    migrate_app(server)
    yield server
    dispose(server)


def row_counts(session, *models) -> tuple[int, ...]:
    from sqlalchemy import func, select

    return tuple(session.execute(select(func.count()).select_from(m)).scalar_one() for m in models)


def assert_valid(frame: pd.DataFrame, timeframe_s: int) -> None:
    """A frame of checked candles: canonical columns, UTC, ordered, unique, finite, OHLC-consistent, aligned."""
    from app.marketdata import OHLCV

    assert list(frame.columns) == list(OHLCV)
    assert str(frame.index.tz) == "UTC" and not frame.index.hasnans
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    values = frame[OHLCV].to_numpy(dtype="float64")
    assert np.isfinite(values).all()
    o, h, l, c, v = values.T
    assert (o > 0).all() and (h > 0).all() and (l > 0).all() and (c > 0).all() and (v >= 0).all()
    assert (l <= np.minimum(o, c)).all() and (h >= np.maximum(o, c)).all()
    assert (frame.index.as_unit("s").asi8 % timeframe_s == 0).all()
