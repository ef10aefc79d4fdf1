"""A user's chart layout: how many charts, and per chart its series, overlays, panes and periods.

A layout is plain data (JSON in the database and in a shared URL)::

    {"v": 1, "count": 1 | 2 | 4, "link": bool, "log": bool,
     "charts": [{"symbol": str | None, "timeframe": str | None, "overlays": [...], "panes": [...],
                 "sma": int, "ema": int}, ... MAX_CHARTS of them]}

``parse_layout(raw)`` checks one strictly and returns ``(layout, message)``: a bad or older layout
gives the defaults and a message naming the field, never an exception, so a page always opens.
``chart_spec(...)`` checks one chart's settings (the callback's values) and raises ``ValueError``
naming the field. ``to_url`` / ``from_url`` turn a layout into a short URL parameter and back.
"""
from __future__ import annotations

import base64
import binascii
import copy
import json
import re

VERSION = 1
MAX_CHARTS = 4
COUNTS = (1, 2, 4)
OVERLAYS = ("sma", "ema", "bb", "vwap")
PANES = ("volume", "rsi", "macd", "atr", "pup")
PERIOD_MIN, PERIOD_MAX = 2, 400
DEFAULT_SMA, DEFAULT_EMA = 20, 50
URL_MAX = 2000  # characters of a layout URL parameter; longer ones are refused before decoding
_SYMBOL = re.compile(r"^[A-Za-z0-9]{1,15}/[A-Za-z0-9]{1,15}$")
_TIMEFRAME = re.compile(r"^[0-9]{1,3}[mhdw]$")


class LayoutError(ValueError):
    """A layout value that is not one this code writes; ``str()`` names the field."""


def default_chart() -> dict:
    return {"symbol": None, "timeframe": None, "overlays": [], "panes": ["volume"], "sma": DEFAULT_SMA,
            "ema": DEFAULT_EMA}


def default_layout() -> dict:
    return {"v": VERSION, "count": 1, "link": False, "log": False,
            "charts": [default_chart() for _ in range(MAX_CHARTS)]}


def _flag(value, field: str) -> bool:
    if not isinstance(value, bool):
        raise LayoutError(f"{field} must be true or false, got {value!r}")
    return value


def _period(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not PERIOD_MIN <= value <= PERIOD_MAX:
        raise LayoutError(f"{field} must be a whole number from {PERIOD_MIN} to {PERIOD_MAX}, got {value!r}")
    return value


def _choices(value, field: str, options: tuple[str, ...]) -> list[str]:
    if not isinstance(value, list) or len(value) > len(options):
        raise LayoutError(f"{field} must be a list of {', '.join(options)}, got {value!r}"[:200])
    for item in value:
        if item not in options:
            raise LayoutError(f"{field}: unknown choice {item!r}; expected {', '.join(options)}"[:200])
    return [o for o in options if o in value]  # canonical order, no repeats


def _optional(value, field: str, pattern: re.Pattern) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise LayoutError(f"{field} is not a valid value: {value!r}"[:200])
    return value


def chart_spec(symbol, timeframe, overlays, panes, sma, ema, field: str = "chart") -> dict:
    """One chart's settings, checked; ``ValueError`` (:class:`LayoutError`) naming the field otherwise."""
    return {"symbol": _optional(symbol, f"{field} symbol", _SYMBOL),
            "timeframe": _optional(timeframe, f"{field} timeframe", _TIMEFRAME),
            "overlays": _choices(overlays, f"{field} overlays", OVERLAYS),
            "panes": _choices(panes, f"{field} panes", PANES),
            "sma": _period(sma, f"{field} SMA period"), "ema": _period(ema, f"{field} EMA period")}


def check_layout(raw) -> dict:
    """``raw`` as a layout, or :class:`LayoutError` naming the first bad field."""
    if not isinstance(raw, dict):
        raise LayoutError(f"the layout must be a mapping, got {type(raw).__name__}")
    if raw.get("v") != VERSION:
        raise LayoutError(f"the layout is of version {raw.get('v')!r}, this page reads version {VERSION}")
    extra = set(raw) - {"v", "count", "link", "log", "charts"}
    if extra:
        raise LayoutError(f"the layout has unknown fields: {', '.join(sorted(map(str, extra)))}"[:200])
    count = raw.get("count")
    if count not in COUNTS or isinstance(count, bool):
        raise LayoutError(f"count must be one of {', '.join(map(str, COUNTS))}, got {count!r}")
    charts = raw.get("charts")
    if not isinstance(charts, list) or len(charts) != MAX_CHARTS:
        raise LayoutError(f"charts must be a list of {MAX_CHARTS} charts")
    out = []
    for k, c in enumerate(charts):
        if not isinstance(c, dict) or set(c) != set(default_chart()):
            raise LayoutError(f"chart {k + 1} must have exactly the fields {', '.join(default_chart())}")
        out.append(chart_spec(c["symbol"], c["timeframe"], c["overlays"], c["panes"], c["sma"], c["ema"],
                              field=f"chart {k + 1}"))
    return {"v": VERSION, "count": count, "link": _flag(raw.get("link"), "link"), "log": _flag(raw.get("log"), "log"),
            "charts": out}


def parse_layout(raw) -> tuple[dict, str | None]:
    """``(layout, None)`` for a valid layout; ``(defaults, message)`` for a bad or older one (or ``None``:
    nothing saved, defaults without a message)."""
    if raw is None:
        return default_layout(), None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return default_layout(), "The saved chart layout could not be read; showing the default layout."
    try:
        return check_layout(raw), None
    except LayoutError as exc:
        return default_layout(), f"The chart layout was not used ({exc}); showing the default layout."


def with_series(layout: dict, slot: int, symbol: str | None, timeframe: str | None) -> dict:
    """A copy of ``layout`` whose chart ``slot`` shows ``symbol``/``timeframe`` where given."""
    out = copy.deepcopy(layout)
    chart = out["charts"][slot]
    chart["symbol"] = _optional(symbol, "symbol", _SYMBOL) if symbol else chart["symbol"]
    chart["timeframe"] = _optional(timeframe, "timeframe", _TIMEFRAME) if timeframe else chart["timeframe"]
    return out


def to_url(layout: dict) -> str:
    """The layout as a URL-safe parameter value (compact JSON, base64url without padding)."""
    doc = json.dumps(check_layout(layout), separators=(",", ":"))
    return base64.urlsafe_b64encode(doc.encode()).decode().rstrip("=")


def from_url(value) -> tuple[dict, str | None]:
    """The layout a URL parameter carries, as :func:`parse_layout` answers (a bad one: defaults + message)."""
    if not isinstance(value, str) or not value or len(value) > URL_MAX:
        return default_layout(), "The layout in the link is missing or too long; showing the default layout."
    try:
        doc = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return default_layout(), "The layout in the link could not be read; showing the default layout."
    return parse_layout(doc)
