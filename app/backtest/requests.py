"""Backtest run requests: parse and validate what a user asked for, before anything is enqueued.

:func:`parse_request` turns a form-like mapping into a list of :class:`RunSpec`
(one per job) or raises :class:`InvalidRequest` carrying every problem found
as a readable message. It is pure: the catalog of stored series and a
``count_bars(exchange, symbol, timeframe, start, end)`` function are passed in,
so it is tested without a database.

Form keys (strings as typed, or already-typed values):

* ``symbols`` (list or one string), ``timeframe``;
* ``start``, ``end``: dates ``YYYY-MM-DD`` (end inclusive: the whole day) or ISO
  datetimes (end exclusive), UTC;
* ``strategy`` and ``params`` ``{name: value}``; a value may be a list, or a
  comma-separated string (``"10, 20"``): single mode expands lists into a batch
  (one run per combination and symbol), walk-forward uses them as its grid;
  ``strategies`` = ``[{"name", "params"}, ...]`` runs several strategies;
* costs ``fee_bps`` (maker and taker fee), ``slippage_bps``;
* sizing ``sizing``, ``fraction_pct``, ``cash_per_trade``, ``initial_cash``,
  optional ``stop_loss_pct``, ``take_profit_pct``;
* ``mode`` ``single`` | ``walk_forward`` with ``train_bars``, ``test_bars``, ``wf_metric``.

The request is bounded before any work: at most ``MAX_SYMBOLS`` symbols,
``MAX_STRATEGIES`` strategies, ``MAX_VALUES`` values per parameter,
``MAX_TEXT`` characters per text and ``MAX_REQUEST_CHARS`` in all; the number
of parameter combinations is counted arithmetically (the product of the value
counts) and a request over the caps is refused at once, naming the fields,
before any combination is built. Every field is type-checked: a list where a
name goes, a boolean where a number goes, ``"maybe"`` for a switch are field
messages, never exceptions. The fields are declared once (``FIELDS``,
:func:`request_schema`) for the form and a REST API alike.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pandas as pd

from app.backtest.config import SIZING_MODES, BacktestConfig, Costs
from app.backtest.strategies import STRATEGIES, Param, Strategy, _Thresholds
from app.backtest.walkforward import OPTIMISE_METRICS
from app.market.query import Catalog, UnknownSeries, resolve
from app.marketdata import TIMEFRAMES
from app.validation import names_a_date

MIN_BARS = 50
MAX_RUNS = 60  # per batch
MAX_GRID = 200  # parameter sets per walk-forward
MAX_SYMBOLS = 20
MAX_STRATEGIES = 10
MAX_VALUES = 100  # values of one parameter
MAX_TEXT = 2_000  # characters of one text field
MAX_REQUEST_CHARS = 20_000  # characters of all text in a request
MAX_ITEMS = 2_000  # values (list items, mapping entries) in a whole request
# a grid whose product of value counts is at most this is enumerated and its invalid
# combinations (e.g. fast >= slow) dropped before the caps apply; beyond it, refused at once
ENUMERATE_LIMIT = 5 * MAX_GRID
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
# Strategies that trade a model's predictions: they need a champion model for the
# symbol and timeframe (``flask ml train``); the note is shown in the form.
NEEDS_MODEL = {"lstm": "trades the champion LSTM's out-of-sample p(up); needs a trained model for the symbol "
                       "and timeframe, and stays flat on bars the model was trained on"}
HIDDEN = {"buy_and_hold"}  # the benchmark is shown next to every run anyway

CountBars = Callable[[str, str, str, datetime, datetime], int]
HasModel = Callable[[str, str], bool]


class InvalidRequest(ValueError):
    """Every problem with a request, as messages for the form."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True)
class RunSpec:
    """One backtest job: everything needed to run (and re-run) it."""

    exchange: str
    symbol: str
    timeframe: str
    start: datetime
    end: datetime  # exclusive
    strategy: str
    params: dict
    config: BacktestConfig
    walk_forward: dict | None = None  # {"grid", "train_bars", "test_bars", "metric"}
    n_bars: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "walk_forward" if self.walk_forward else "single"

    def to_json(self) -> dict:
        """The full configuration stored with the run."""
        return {"exchange": self.exchange, "symbol": self.symbol, "timeframe": self.timeframe,
                "start": self.start.isoformat(), "end": self.end.isoformat(), "strategy": self.strategy,
                "params": self.params, "backtest": self.config.to_dict(), "walk_forward": self.walk_forward}


def strategy_choices() -> list[dict]:
    """Strategies for the form: name, description, parameter schema, and why one is disabled."""
    out = []
    for name, cls in STRATEGIES.items():
        if name in HIDDEN:
            continue
        out.append({"name": name, "description": cls.description, "schema": cls.schema(),
                    "disabled": False, "reason": NEEDS_MODEL.get(name)})
    return out


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _show(value) -> str:
    """A short, safe rendering of a bad value for a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(label: str, value, lo: float, hi: float, errors: list[str], *, default=None, optional=False):
    if _empty(value):
        if optional or default is not None:
            return default
        errors.append(f"{label} is required.")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        errors.append(f"{label} must be a number, got {_show(value)}.")
        return None
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        errors.append(f"{label} must be a number, got {_show(value)}.")
        return None
    if not math.isfinite(x) or not lo <= x <= hi:
        errors.append(f"{label} must be between {lo:g} and {hi:g}, got {_show(value)}.")
        return None
    return x


def _choice(label: str, value, choices: Sequence[str], errors: list[str], *, default: str | None = None):
    """One of ``choices`` (text), ``default`` when empty; otherwise a message and ``None``."""
    if _empty(value) and default is not None:
        return default
    if not isinstance(value, str) or value.strip() not in choices:
        allowed = f"'{choices[0]}' or '{choices[1]}'" if len(choices) == 2 else f"one of {', '.join(choices)}"
        errors.append(f"{label} must be {allowed}, got {_show(value)}.")
        return None
    return value.strip()


def _integer(label: str, value, lo: int, hi: int, errors: list[str]) -> int | None:
    x = _number(label, value, lo, hi, errors)
    if x is None:
        return None
    if x != int(x):
        errors.append(f"{label} must be a whole number, got {_show(value)}.")
        return None
    return int(x)


def parse_time(label: str, value, *, end: bool) -> datetime:
    """A UTC datetime from a date (end dates are inclusive: the day after, exclusive) or an ISO string."""
    if isinstance(value, datetime):
        ts = pd.Timestamp(value)
    else:
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{label} date must be a date (YYYY-MM-DD), got {_show(value)}.")
        text = str(value or "").strip()
        if not text:
            raise ValueError(f"{label} date is required.")
        if not names_a_date(text):
            raise ValueError(f"{label} date {_show(text)} is not a date (use YYYY-MM-DD).")
        try:
            ts = pd.Timestamp(text)
        except (ValueError, TypeError, OverflowError):
            raise ValueError(f"{label} date {_show(text)} is not a date (use YYYY-MM-DD).") from None
        if pd.isna(ts):
            raise ValueError(f"{label} date {text!r} is not a date (use YYYY-MM-DD).")
        if end and len(text) <= 10:  # a bare date: include the whole day
            ts = ts + pd.Timedelta(days=1)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def _param_items(p: Param, raw) -> list:
    """The raw item(s) given for one parameter: a value, a list, or ``"a, b, c"`` (at most ``MAX_VALUES``)."""
    if isinstance(raw, (list, tuple)):
        items = list(raw)
    elif isinstance(raw, str):
        items = [s.strip() for s in raw.split(",") if s.strip()]
    elif raw is None:
        items = []
    else:
        items = [raw]
    if len(items) > MAX_VALUES:
        raise ValueError(f"{p.name} has {len(items)} values; at most {MAX_VALUES} per parameter")
    return items or [p.default]


def _param_value(p: Param, item):
    """One typed, validated value of ``p``."""
    if p.type is bool:
        if isinstance(item, str):
            word = item.strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise ValueError(f"{p.name} must be true or false, got {_show(item)}")
        return p.validate(item)
    if p.type is str:
        return p.validate(item.strip() if isinstance(item, str) else item)
    if isinstance(item, str):
        try:
            item = float(item)
        except ValueError:
            raise ValueError(f"{p.name} must be a number, got {_show(item)}") from None
    elif isinstance(item, bool) or not isinstance(item, (int, float)):
        raise ValueError(f"{p.name} must be a number, got {_show(item)}")
    return p.validate(item)


def _param_values(p: Param, raw) -> list:
    """One parameter's distinct value(s) from the form, in the order given."""
    return list(dict.fromkeys(_param_value(p, item) for item in _param_items(p, raw)))


def _build(cls: type[Strategy], values: dict) -> Strategy:
    if issubclass(cls, _Thresholds):
        return cls(pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC")), **values)
    return cls(**values)


def _strategy_grid(name, params, errors: list[str]) -> tuple[type[Strategy], dict] | None:
    cls = STRATEGIES.get(name) if isinstance(name, str) else None
    if cls is None or name in HIDDEN:
        errors.append(f"Unknown strategy {_show(name)}. Choose one of: "
                      f"{', '.join(n for n in STRATEGIES if n not in HIDDEN)}.")
        return None
    if params is not None and not isinstance(params, Mapping):
        errors.append(f"{name}: parameters must be a mapping of name to value(s), got {type(params).__name__}.")
        return None
    params = dict(params or {})
    if not all(isinstance(k, str) for k in params):
        errors.append(f"{name}: parameter names must be text.")
        return None
    known = {p.name: p for p in cls.params}
    unknown = sorted(set(params) - set(known))
    if unknown:
        errors.append(f"{name}: unknown parameters {unknown}.")
        return None
    grid, ok = {}, True
    for pname, p in known.items():
        try:
            grid[pname] = _param_values(p, params.get(pname))
        except ValueError as exc:
            errors.append(f"{name}: {exc}.")
            ok = False
    return (cls, grid) if ok else None


def grid_size(grid: Mapping[str, Sequence]) -> int:
    """Parameter combinations of ``grid``, counted without building any."""
    return math.prod(len(v) for v in grid.values())


def _size_text(cls: type[Strategy], grid: dict) -> str:
    many = [(k, len(v)) for k, v in grid.items() if len(v) > 1]
    parts = " × ".join(f"{n} {k}" for k, n in many) or "1"
    return f"{cls.name}: {parts} = {grid_size(grid):,} parameter combinations"


def _combos(cls: type[Strategy], grid: dict, errors: list[str]) -> list[dict]:
    names = list(grid)
    combos, rejected = [], None
    for values in itertools.product(*(grid[n] for n in names)):
        params = dict(zip(names, values))
        try:
            _build(cls, params)
        except ValueError as exc:
            rejected = str(exc)
            continue
        combos.append(params)
    if not combos:
        errors.append(f"Parameters out of range: {rejected}.")
    return combos


def _warmup(params_list: list[dict]) -> int:
    """Bars a strategy needs before it can trade: twice its longest window."""
    longest = max((v for p in params_list for k, v in p.items()
                   if isinstance(v, int) and not isinstance(v, bool)), default=0)
    return max(MIN_BARS, 2 * longest)


@dataclass(frozen=True)
class NumberField:
    """A numeric form field: label for messages, range, default (``None``: required unless optional)."""

    key: str
    label: str
    lo: float
    hi: float
    default: float | None = None
    optional: bool = False
    integer: bool = False

    def parse(self, form: Mapping, errors: list[str]):
        if self.integer:
            return _integer(self.label, form.get(self.key), int(self.lo), int(self.hi), errors)
        return _number(self.label, form.get(self.key), self.lo, self.hi, errors, default=self.default,
                       optional=self.optional)

    def to_dict(self) -> dict:
        return {"type": "integer" if self.integer else "number", "title": self.label, "minimum": self.lo,
                "maximum": self.hi, "default": self.default, "required": self.default is None and not self.optional}


@dataclass(frozen=True)
class ChoiceField:
    key: str
    label: str
    choices: tuple[str, ...]
    default: str | None = None

    def parse(self, form: Mapping, errors: list[str]):
        return _choice(self.label, form.get(self.key), self.choices, errors, default=self.default)

    def to_dict(self) -> dict:
        return {"type": "string", "title": self.label, "enum": list(self.choices), "default": self.default,
                "required": self.default is None}


FIELDS = {f.key: f for f in (
    ChoiceField("timeframe", "Timeframe", tuple(TIMEFRAMES)),
    ChoiceField("mode", "Mode", ("single", "walk_forward"), default="single"),
    NumberField("fee_bps", "Fee (bps)", 0, 1000, default=4.0),
    NumberField("slippage_bps", "Slippage (bps)", 0, 1000, default=2.0),
    ChoiceField("sizing", "Sizing", SIZING_MODES, default="fixed_fraction"),
    NumberField("fraction_pct", "Position size (% of equity)", 0.01, 100, default=100.0),
    NumberField("initial_cash", "Initial cash", 1, 1e12, default=10_000.0),
    NumberField("cash_per_trade", "Cash per trade", 1, 1e12, default=1_000.0),
    NumberField("stop_loss_pct", "Stop-loss (%)", 0.01, 99, optional=True),
    NumberField("take_profit_pct", "Take-profit (%)", 0.01, 1000, optional=True),
    NumberField("train_bars", "Training window (bars)", 20, 1_000_000, integer=True),
    NumberField("test_bars", "Test window (bars)", 5, 1_000_000, integer=True),
    ChoiceField("wf_metric", "Walk-forward metric", OPTIMISE_METRICS, default="sharpe"),
)}
LIMITS = {"max_symbols": MAX_SYMBOLS, "max_strategies": MAX_STRATEGIES, "max_values_per_parameter": MAX_VALUES,
          "max_text_chars": MAX_TEXT, "max_request_chars": MAX_REQUEST_CHARS, "max_items": MAX_ITEMS,
          "max_runs_per_batch": MAX_RUNS, "max_walk_forward_grid": MAX_GRID}


def request_schema() -> dict:
    """The request's fields, limits and every strategy's parameter schema, as plain data (for an API)."""
    return {"fields": {k: f.to_dict() for k, f in FIELDS.items()}
            | {"symbols": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_SYMBOLS, "required": True},
               "start": {"type": "string", "format": "date or ISO datetime (UTC)", "required": True},
               "end": {"type": "string", "format": "date (inclusive) or ISO datetime (exclusive)", "required": True},
               "strategy": {"type": "string", "enum": [n for n in STRATEGIES if n not in HIDDEN]},
               "params": {"type": "object", "description": "name -> value, list of values or 'a, b, c'"},
               "strategies": {"type": "array", "maxItems": MAX_STRATEGIES,
                              "items": {"type": "object", "properties": {"name": {"type": "string"},
                                                                         "params": {"type": "object"}}}}},
            "limits": dict(LIMITS), "strategies": strategy_choices()}


def _size_check(form: Mapping, errors: list[str]) -> bool:
    """Bound the whole request (text and items, nesting included) before looking at it; False when too big."""
    chars = items = 0
    stack = [(form, 0, "")]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, str):
            if len(value) > MAX_TEXT:
                errors.append(f"{path or 'A field'} holds {len(value):,} characters; at most {MAX_TEXT:,} per field.")
                return False
            chars += len(value)
            if chars > MAX_REQUEST_CHARS:
                errors.append(f"The request holds more than {MAX_REQUEST_CHARS:,} characters of text.")
                return False
        elif isinstance(value, (Mapping, list, tuple)):
            if depth >= 4:
                errors.append(f"{path} is nested too deeply.")
                return False
            entries = list(value.items()) if isinstance(value, Mapping) else list(enumerate(value))
            items += len(entries)
            if items > MAX_ITEMS:
                errors.append(f"The request holds more than {MAX_ITEMS:,} values.")
                return False
            for key, entry in entries:
                name = f"{path}.{key}" if path and isinstance(value, Mapping) else (
                    str(key)[:40] if isinstance(value, Mapping) else f"{path}[{key}]")
                if isinstance(value, Mapping):
                    stack.append((key, depth + 1, name))
                stack.append((entry, depth + 1, name))
    return True


def _config(form: Mapping, timeframe: str | None, errors: list[str]) -> BacktestConfig | None:
    n0 = len(errors)
    fee, slip, sizing, fraction, cash, per_trade, stop, take = (
        FIELDS[k].parse(form, errors) for k in ("fee_bps", "slippage_bps", "sizing", "fraction_pct", "initial_cash",
                                               "cash_per_trade", "stop_loss_pct", "take_profit_pct"))
    if len(errors) > n0:
        return None
    try:
        return BacktestConfig(
            initial_cash=cash, costs=Costs(maker_fee=fee / 1e4, taker_fee=fee / 1e4, slippage_bps=slip),
            sizing=sizing, fraction=fraction / 100.0, cash_per_trade=per_trade,
            stop_loss=None if stop is None else stop / 100.0, take_profit=None if take is None else take / 100.0,
            timeframe=timeframe)
    except ValueError as exc:
        errors.append(f"Backtest settings: {exc}.")
        return None


def _walk_forward(form: Mapping, errors: list[str]) -> dict | None:
    n0 = len(errors)
    train, test, metric = (FIELDS[k].parse(form, errors) for k in ("train_bars", "test_bars", "wf_metric"))
    if len(errors) > n0:
        return None
    return {"train_bars": train, "test_bars": test, "metric": metric}


def _symbols(form: Mapping, cat: Catalog, timeframe: str | None, errors: list[str]) -> list[str]:
    raw = form.get("symbols")
    if raw is not None and not isinstance(raw, (str, list, tuple)):
        errors.append(f"Symbols must be a list of symbols, got {type(raw).__name__}.")
        return []
    items = [raw] if isinstance(raw, str) else list(raw or [])
    if not all(isinstance(x, str) for x in items):
        errors.append("Symbols must be text, like BTC/USDT.")
        return []
    items = list(dict.fromkeys(s for s in (x.strip() for x in items) if s))
    if not items:
        errors.append("Choose at least one symbol.")
        return []
    if len(items) > MAX_SYMBOLS:
        errors.append(f"That is {len(items)} symbols; a request may hold at most {MAX_SYMBOLS}.")
        return []
    out = []
    for s in items:
        try:
            out.append(resolve(cat, s, timeframe)[0])
        except UnknownSeries as exc:
            errors.append(str(exc))
    return out


def _wanted(form: Mapping, errors: list[str]) -> list[tuple]:
    """(name, params) of each strategy asked for, type-checked."""
    many = form.get("strategies")
    if many is None or (isinstance(many, (list, tuple)) and not many):  # absent or empty: the one strategy
        return [(form.get("strategy"), form.get("params"))]
    if not isinstance(many, (list, tuple)):
        errors.append(f"Strategies must be a list of {{name, params}}, got {type(many).__name__}.")
        return []
    if len(many) > MAX_STRATEGIES:
        errors.append(f"That is {len(many)} strategies; a request may hold at most {MAX_STRATEGIES}.")
        return []
    out = []
    for k, item in enumerate(many, 1):
        if not isinstance(item, Mapping):
            errors.append(f"Strategy {k} must be a mapping with a name and params, got {type(item).__name__}.")
            continue
        out.append((item.get("name"), item.get("params")))
    return out


def parse_request(form: Mapping, cat: Catalog, count_bars: CountBars, now: datetime | None = None,
                  has_model: HasModel | None = None) -> list[RunSpec]:
    """Validate ``form`` (see the module docstring) into one :class:`RunSpec` per job.

    ``has_model(symbol, timeframe)``: is there a champion model (strategies in ``NEEDS_MODEL``)."""
    now = now or datetime.now(timezone.utc)
    errors: list[str] = []
    if not isinstance(form, Mapping):
        raise InvalidRequest([f"The request must be a mapping of fields, got {type(form).__name__}."])
    if not _size_check(form, errors):
        raise InvalidRequest(errors)
    timeframe = None
    if _empty(form.get("timeframe")):
        errors.append("Choose a timeframe.")
    else:
        timeframe = FIELDS["timeframe"].parse(form, errors)
    symbols = _symbols(form, cat, timeframe, errors) if timeframe else []
    start = end = None
    try:
        start = parse_time("Start", form.get("start"), end=False)
        end = parse_time("End", form.get("end"), end=True)
    except ValueError as exc:
        errors.append(str(exc))
    if start is not None and end is not None:
        if start >= end:
            errors.append("The start date must be before the end date.")
        elif start > now:
            errors.append("The start date is in the future.")
    wanted = _wanted(form, errors)
    grids = [g for g in (_strategy_grid(n, p, errors) for n, p in wanted) if g is not None]
    mode = FIELDS["mode"].parse(form, errors)
    wf = _walk_forward(form, errors) if mode == "walk_forward" else None
    config = _config(form, timeframe, errors)
    # count before building anything: the product of value counts bounds the combinations
    n_sym = max(1, len(symbols))
    cap = MAX_GRID if mode == "walk_forward" else MAX_RUNS
    for cls, grid in grids:
        size = grid_size(grid)
        if size > ENUMERATE_LIMIT or (mode != "walk_forward" and size * n_sym > max(ENUMERATE_LIMIT, MAX_RUNS)):
            what = "a walk-forward grid may hold at most" if mode == "walk_forward" else "a batch may hold at most"
            unit = "parameter sets" if mode == "walk_forward" else "runs"
            errors.append(f"{_size_text(cls, grid)}{f' on {n_sym} symbols' if n_sym > 1 and mode != 'walk_forward' else ''}"
                          f"; {what} {cap} {unit}. Use fewer values.")
    if errors:
        raise InvalidRequest(list(dict.fromkeys(errors)))
    runs_params: list[tuple[type[Strategy], list[dict]]] = []
    for cls, grid in grids:
        combos = _combos(cls, grid, errors)
        if combos:
            runs_params.append((cls, combos))
    if mode == "walk_forward" and any(len(c) > MAX_GRID for _, c in runs_params):
        errors.append(f"A walk-forward grid may hold at most {MAX_GRID} parameter sets.")
    if mode != "walk_forward":
        total = sum(len(c) for _, c in runs_params) * n_sym
        if total > MAX_RUNS:
            errors.append(f"That is {total} runs; a batch may hold at most {MAX_RUNS}. Use fewer symbols or values.")
    if errors:
        raise InvalidRequest(list(dict.fromkeys(errors)))

    specs: list[RunSpec] = []
    for symbol in symbols:
        exchange = cat.exchange[symbol]
        n = count_bars(exchange, symbol, timeframe, start, end)
        for cls, combos in runs_params:
            if cls.name in NEEDS_MODEL and not (has_model and has_model(symbol, timeframe)):
                errors.append(f"No champion LSTM model for {symbol} {timeframe}: train one "
                              f"(flask ml train --symbol {symbol} --timeframe {timeframe}) or pick another strategy.")
                continue
            need = _warmup(combos)
            if wf is not None:
                need = max(need, wf["train_bars"] + wf["test_bars"])
            if n < need:
                errors.append(f"Too few bars: {symbol} {timeframe} has {n} bars between {start:%Y-%m-%d %H:%M} and "
                              f"{end:%Y-%m-%d %H:%M} UTC; {cls.name} needs at least {need}. "
                              "Widen the date range or pick a shorter timeframe.")
                continue
            if wf is not None:
                grid = {k: sorted({c[k] for c in combos}, key=lambda v: (str(type(v)), v)) for k in combos[0]}
                specs.append(RunSpec(exchange, symbol, timeframe, start, end, cls.name, combos[0], config,
                                     walk_forward={**wf, "grid": grid}, n_bars=n))
            else:
                specs.extend(RunSpec(exchange, symbol, timeframe, start, end, cls.name, params, config, n_bars=n)
                             for params in combos)
    if not errors and len(specs) > MAX_RUNS:
        errors.append(f"That is {len(specs)} runs; a batch may hold at most {MAX_RUNS}. Use fewer symbols or values.")
    if errors:
        raise InvalidRequest(list(dict.fromkeys(errors)))
    return specs


def default_range(first: datetime, last: datetime, days: int = 90) -> tuple[str, str]:
    """Form defaults: the last ``days`` of the stored span, as dates."""
    start = max(first, last - timedelta(days=days))
    return f"{start:%Y-%m-%d}", f"{last:%Y-%m-%d}"
