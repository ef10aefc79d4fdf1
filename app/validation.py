"""Strict type checks for values that arrive from a client (callback arguments, later the REST API).

A browser sends JSON, so a field meant to hold text can arrive as a list, a dict, a boolean, a
number, NaN or a megabyte of text. Each parser here takes the raw value and the field's label and
returns the checked value or raises :class:`InvalidInput` whose message names the field; nothing
is coerced silently (``True`` is not the number 1, ``"maybe"`` is not false, ``inf`` is not a number).

A :class:`Schema` is one form's (or one callback's) fields, declared once::

    CHART = Schema(symbol=Text("Symbol", optional=True), timeframe=Text("Timeframe", optional=True))
    symbol, timeframe = CHART(symbol, timeframe)
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

MAX_TEXT = 200
MAX_ID = 2 ** 63 - 1  # the largest id a BIGINT primary key holds
MAX_ITEMS = 100


_YEAR_DIGITS = re.compile(r"\d{4}")


def names_a_date(text: str) -> bool:
    """Whether a date/time text names its calendar date (it has a four-digit year).

    pandas and dateutil also read words against the wall clock (``"now"``, ``"today"``) and a bare time
    of day (``"12:00"`` as today at noon): a file or a form imported another day would mean another time,
    so the parsers of stored times refuse such text."""
    return bool(_YEAR_DIGITS.search(text))


class InvalidInput(ValueError):
    """A client value of the wrong type or out of range; ``str()`` is the message for the user."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message
        self.show_in: str | None = None  # where a page shows it (None: the page's default place)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def text(value: Any, field: str, *, max_len: int = MAX_TEXT, optional: bool = False,
         pattern: re.Pattern | None = None) -> str | None:
    """A string of at most ``max_len`` characters (``None`` or ``""`` when ``optional``)."""
    if value is None or (optional and value == ""):
        if optional:
            return None
        raise InvalidInput(field, f"{field} is required.")
    if not isinstance(value, str):
        raise InvalidInput(field, f"{field} must be text, got {_kind(value)}.")
    if len(value) > max_len:
        raise InvalidInput(field, f"{field} holds {len(value):,} characters; at most {max_len:,}.")
    if pattern is not None and not pattern.fullmatch(value):
        raise InvalidInput(field, f"{field} {_show(value)} is not valid.")
    return value


def choice(value: Any, field: str, options: Iterable[str], *, optional: bool = False) -> str | None:
    """One of ``options`` (text only: a list holding a valid option is refused, not unwrapped)."""
    options = list(options)
    checked = text(value, field, optional=optional)
    if checked is not None and checked not in options:
        raise InvalidInput(field, f"{field} must be one of {', '.join(options)}; got {_show(value)}.")
    return checked


def integer(value: Any, field: str, *, minimum: int | None = None, maximum: int | None = None,
            optional: bool = False) -> int | None:
    """A whole number: an int, an integral finite float, or text of digits. Never a boolean."""
    if value is None or (optional and value == ""):
        if optional:
            return None
        raise InvalidInput(field, f"{field} is required.")
    if isinstance(value, bool):
        raise InvalidInput(field, f"{field} must be a whole number, got {value}.")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(field, f"{field} must be finite, got {value}.")
        if not value.is_integer():
            raise InvalidInput(field, f"{field} must be a whole number, got {value:g}.")
        value = int(value)
    elif isinstance(value, str):
        stripped = value.strip()
        if not re.fullmatch(r"[+-]?\d{1,19}", stripped):
            raise InvalidInput(field, f"{field} must be a whole number, got {_show(value)}.")
        value = int(stripped)
    elif not isinstance(value, int):
        raise InvalidInput(field, f"{field} must be a whole number, got {_kind(value)}.")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        lo = "" if minimum is None else f"{minimum:,}"
        hi = "" if maximum is None else f"{maximum:,}"
        span = f"from {lo} to {hi}" if lo and hi else (f"at least {lo}" if lo else f"at most {hi}")
        raise InvalidInput(field, f"{field} must be a whole number {span}, got {value:,}.")
    return value


def boolean(value: Any, field: str, *, optional: bool = True) -> bool:
    """A switch or checkbox: ``True`` or ``False`` (``None`` is false when ``optional``); never text or a number."""
    if value is None and optional:
        return False
    if not isinstance(value, bool):
        raise InvalidInput(field, f"{field} must be true or false, got {_kind(value)}.")
    return value


def record_id(value: Any, field: str, *, optional: bool = False) -> int | None:
    """A database id: a whole number from 1 to the largest BIGINT."""
    return integer(value, field, minimum=1, maximum=MAX_ID, optional=optional)


def record_ids(value: Any, field: str, *, max_items: int = MAX_ITEMS, optional: bool = True) -> list[int]:
    """A list of database ids (``None`` is the empty list when ``optional``)."""
    items = listing(value, field, max_items=max_items, optional=optional)
    return [record_id(v, f"{field}[{k}]") for k, v in enumerate(items)]


def listing(value: Any, field: str, *, max_items: int = MAX_ITEMS, optional: bool = True) -> list:
    """A list of at most ``max_items`` items (``None`` is the empty list when ``optional``)."""
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise InvalidInput(field, f"{field} must be a list, got {_kind(value)}.")
    if len(value) > max_items:
        raise InvalidInput(field, f"{field} has {len(value):,} items; at most {max_items:,}.")
    return value


def mapping(value: Any, field: str, *, optional: bool = True) -> dict:
    """A JSON object (``None`` is the empty mapping when ``optional``)."""
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(field, f"{field} must be a mapping, got {_kind(value)}.")
    return value


def clicks(value: Any, field: str) -> list[int]:
    """The ``n_clicks`` of a pattern-matched group of buttons: a list of counts (``None`` is 0)."""
    items = listing(value, field, max_items=10_000)
    return [0 if v is None else integer(v, f"{field}[{k}]", minimum=0) for k, v in enumerate(items)]


JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}")


def job_id(value: Any, field: str, *, optional: bool = True) -> str | None:
    """A queued job's id as the page stored it: short text of letters, digits, ``-_.:/``."""
    return text(value, field, max_len=100, optional=optional, pattern=JOB_ID)


def triggered(value: Any, field: str, types: Iterable[str]) -> tuple[str, Any]:
    """``(type, index)`` of the pattern-matched component that fired (Dash's ``ctx.triggered_id``)."""
    types = tuple(types)
    if not isinstance(value, dict) or set(value) != {"type", "index"} or value["type"] not in types:
        raise InvalidInput(field, f"{field}: the button that was pressed is not one of this page's.")
    return value["type"], value["index"]


@dataclass(frozen=True)
class Field:
    """One field of a :class:`Schema`: its label and the parser that checks it."""
    label: str
    parse: Callable[..., Any]
    options: dict

    def __call__(self, value: Any) -> Any:
        return self.parse(value, self.label, **self.options)


def Text(label: str, **options) -> Field:  # noqa: N802 - reads as a field type in a schema
    return Field(label, text, options)


def Choice(label: str, options: Iterable[str], **more) -> Field:  # noqa: N802
    return Field(label, choice, {"options": tuple(options), **more})


def Integer(label: str, **options) -> Field:  # noqa: N802
    return Field(label, integer, options)


def Boolean(label: str, **options) -> Field:  # noqa: N802
    return Field(label, boolean, options)


def RecordId(label: str, **options) -> Field:  # noqa: N802
    return Field(label, record_id, options)


def RecordIds(label: str, **options) -> Field:  # noqa: N802
    return Field(label, record_ids, options)


def Listing(label: str, **options) -> Field:  # noqa: N802
    return Field(label, listing, options)


def Mapping(label: str, **options) -> Field:  # noqa: N802
    return Field(label, mapping, options)


def Clicks(label: str) -> Field:  # noqa: N802
    return Field(label, clicks, {})


def JobId(label: str, **options) -> Field:  # noqa: N802
    return Field(label, job_id, options)


def Ignored(label: str) -> Field:  # noqa: N802 - a value the callback does not read (a tick count)
    return Field(label, lambda value, _label: value, {})


class Schema:
    """The fields of one form or callback, in argument order; calling it checks every value.

    ``schema(*values)`` returns the checked values as a tuple (one value: that value), raising
    :class:`InvalidInput` for the first field that fails.
    """

    def __init__(self, **fields: Field):
        self.fields = fields

    def __call__(self, *values: Any):
        if len(values) != len(self.fields):
            raise TypeError(f"expected {len(self.fields)} values, got {len(values)}")
        checked = tuple(f(v) for f, v in zip(self.fields.values(), values))
        return checked[0] if len(checked) == 1 else checked

    def describe(self) -> dict[str, dict]:
        """The fields as data (label, parser, options), for an API's schema document."""
        return {name: {"title": f.label, "type": f.parse.__name__,
                       **{k: list(v) if isinstance(v, tuple) else v for k, v in f.options.items()
                          if isinstance(v, (int, str, bool, tuple, type(None)))}}
                for name, f in self.fields.items()}


def json_object_id(text_id: str) -> bool:
    """Whether a component id sent as text is a JSON object (a pattern-matched id) that parses."""
    try:
        return isinstance(json.loads(text_id), dict)
    except ValueError:
        return False
