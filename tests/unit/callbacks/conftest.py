"""Callback modules import their page modules, which register with Dash: the session's Dash app must exist."""
import pytest


@pytest.fixture(autouse=True)
def _dash_pages(dash_app):
    return dash_app
