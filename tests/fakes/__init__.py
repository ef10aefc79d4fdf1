"""Test doubles shared by unit and integration tests (fake exchange server, synthetic candles)."""
