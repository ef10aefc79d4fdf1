"""The candlestick chart's tick, shared by the Market and Signals pages: a ``dash.Patch`` for new bars.

``app.figures.market.tail_update`` decides what changes; this turns it into Patch operations on the
figure ``candlestick_figure`` built (trace 0 candles, trace 1 volume bars), so only the changed
forming bar and the newly closed bars travel, and the layout (with the trader's zoom) stays.
"""
from __future__ import annotations

import pandas as pd
from dash import Patch

import app.hot as hot
from app.extensions import db
from app.figures.market import CANDLES, PRICE_FIELDS, VOLUME
from app.market import query

TAIL_BARS = 32  # bars read on a tick: a page up to 31 bars behind gets a patch, further behind the figure


def tail_bars(cat: query.Catalog, sym: str, tf: str, seen: dict | None) -> pd.DataFrame:
    """The latest bars for a tick: the live cache when it reaches back to the bar this tab shows (any
    cached bars for a first view), else the database (the caller ends the read transaction)."""
    cache = hot.live_cache()
    if cache is not None:
        cached = cache.read_candles(cat.exchange[sym], sym, tf, limit=TAIL_BARS)
        if cached is not None and len(cached):
            last = (seen or {}).get("last")
            try:
                if last is None or cached.index[0] <= pd.Timestamp(last):
                    return cached
            except (TypeError, ValueError):  # a store value this code did not write: read the database
                pass
    return query.recent_candles(db.session, cat, sym, tf, limit=TAIL_BARS, cache=cache)[0]


def candle_patch(update: dict) -> Patch:
    patch = Patch()
    candles, volume = patch["data"][CANDLES], patch["data"][VOLUME]
    index, bar = update["set"]
    for field in PRICE_FIELDS:
        candles[field][index] = bar[field][0]
    volume["y"][index] = bar["volume"][0]
    volume["marker"]["color"][index] = bar["color"][0]
    new = update["append"]
    if new["x"]:
        for field in ("x", *PRICE_FIELDS):
            candles[field].extend(new[field])
        volume["x"].extend(new["x"])
        volume["y"].extend(new["volume"])
        volume["marker"]["color"].extend(new["color"])
    for _ in range(update["drop"]):
        for field in ("x", *PRICE_FIELDS):
            del candles[field][0]
        for part in (volume["x"], volume["y"], volume["marker"]["color"]):
            del part[0]
    return patch


def chart_patch(update: dict, studies: dict, spec: dict) -> Patch:
    """Patch operations for the trader chart (``app.figures.chart``) from ``tick_update``'s answer and the
    study values of its newly closed bars (``studies``: {series: array of len(update["newer"])})."""
    from app.figures.chart import (BARS, CANDLE_FIELDS, CANDLES, FORMING, bar_colors, candle_columns, trace_layout,
                                   values)

    patch = Patch()
    newer, layout = update["newer"], trace_layout(spec)
    series = {name: k for name, k in layout.items() if name != "pup"}
    if len(newer):
        cols = candle_columns(newer)
        candles = patch["data"][CANDLES]
        for field in CANDLE_FIELDS:
            candles[field].extend(cols[field])
        for name, k in series.items():
            patch["data"][k]["x"].extend(cols["x"])
            patch["data"][k]["y"].extend(values(studies[name]))
            if name in BARS:
                patch["data"][k]["marker"]["color"].extend(bar_colors(name, studies[name], newer))
    if update["forming"] is not None:
        cols = candle_columns(update["forming"])
        for field in CANDLE_FIELDS:
            patch["data"][FORMING][field] = cols[field]
    for _ in range(update["drop"]):
        for field in CANDLE_FIELDS:
            del patch["data"][CANDLES][field][0]
        for name, k in series.items():
            del patch["data"][k]["x"][0]
            del patch["data"][k]["y"][0]
            if name in BARS:
                del patch["data"][k]["marker"]["color"][0]
    return patch
