"""The catalogue every page and callback reads: cached in hot state, with the configured series choice."""
from __future__ import annotations

from flask import current_app

import app.hot as hot
from app.extensions import db
from app.market import query


def page_catalog(cached: bool = True) -> query.Catalog:
    """What is stored and which exchange's series each symbol shows (``MARKET_DATA_SOURCE``, ``DISPLAY_SERIES``)."""
    return query.catalog(db.session, hot.catalog_cache() if cached else None,
                         query.choice_from(current_app.config["CW_SETTINGS"]))
