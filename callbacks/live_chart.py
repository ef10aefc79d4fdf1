"""The candlestick chart's tick, shared by the Market and Signals pages: a ``dash.Patch`` for new bars.

``app.figures.market.tail_update`` decides what changes; this turns it into Patch operations on the
figure ``candlestick_figure`` built (trace 0 candles, trace 1 volume bars), so only the changed
forming bar and the newly closed bars travel, and the layout (with the trader's zoom) stays.
"""
from __future__ import annotations

from dash import Patch

from app.figures.market import CANDLES, PRICE_FIELDS, VOLUME

TAIL_BARS = 32  # bars read on a tick: a page up to 31 bars behind gets a patch, further behind the figure


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
