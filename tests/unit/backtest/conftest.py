"""Fixtures for the backtest tests."""
from __future__ import annotations

import pytest

from tests.unit.backtest.backtest_candles import random_candles


@pytest.fixture
def candles():
    return random_candles()
