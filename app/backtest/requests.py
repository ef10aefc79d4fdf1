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
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pandas as pd

from app.backtest.config import SIZING_MODES, BacktestConfig, Costs
from app.backtest.strategies import STRATEGIES, Param, Strategy, _Thresholds
from app.backtest.walkforward import OPTIMISE_METRICS
from app.market.query import Catalog, UnknownSeries, resolve

MIN_BARS = 50
MAX_RUNS = 60  # per batch
MAX_GRID = 200  # parameter sets per walk-forward
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


def _number(label: str, value, lo: float, hi: float, errors: list[str], *, default=None, optional=False):
    if _empty(value):
        if optional or default is not None:
            return default
        errors.append(f"{label} is required.")
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        errors.append(f"{label} must be a number, got {value!r}.")
        return None
    if not math.isfinite(x) or not lo <= x <= hi:
        errors.append(f"{label} must be between {lo:g} and {hi:g}, got {value!r}.")
        return None
    return x


def _integer(label: str, value, lo: int, hi: int, errors: list[str]) -> int | None:
    x = _number(label, value, lo, hi, errors)
    if x is None:
        return None
    if x != int(x):
        errors.append(f"{label} must be a whole number, got {value!r}.")
        return None
    return int(x)


def parse_time(label: str, value, *, end: bool) -> datetime:
    """A UTC datetime from a date (end dates are inclusive: the day after, exclusive) or an ISO string."""
    if isinstance(value, datetime):
        ts = pd.Timestamp(value)
    else:
        text = str(value or "").strip()
        if not text:
            raise ValueError(f"{label} date is required.")
        try:
            ts = pd.Timestamp(text)
        except (ValueError, TypeError):
            raise ValueError(f"{label} date {text!r} is not a date (use YYYY-MM-DD).") from None
        if pd.isna(ts):
            raise ValueError(f"{label} date {text!r} is not a date (use YYYY-MM-DD).")
        if end and len(text) <= 10:  # a bare date: include the whole day
            ts = ts + pd.Timedelta(days=1)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def _param_values(p: Param, raw) -> list:
    """One parameter's value(s) from the form: a value, a list, or ``"a, b, c"``."""
    if isinstance(raw, (list, tuple)):
        items = list(raw)
    elif isinstance(raw, str):
        items = [s.strip() for s in raw.split(",") if s.strip()]
        if not items:
            return [p.default]
    elif raw is None:
        return [p.default]
    else:
        items = [raw]
    out = []
    for item in items:
        if isinstance(item, str) and p.type is not bool:
            try:
                item = float(item)
            except ValueError:
                raise ValueError(f"{p.name} must be a number, got {item!r}") from None
        if isinstance(item, str) and p.type is bool:
            item = item.strip().lower() in ("1", "true", "yes", "on")
        out.append(p.validate(item))
    return out


def _build(cls: type[Strategy], values: dict) -> Strategy:
    if issubclass(cls, _Thresholds):
        return cls(pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC")), **values)
    return cls(**values)


def _strategy_grid(name: str, params: Mapping | None, errors: list[str]) -> tuple[type[Strategy], dict] | None:
    cls = STRATEGIES.get(name or "")
    if cls is None or name in HIDDEN:
        errors.append(f"Unknown strategy {name!r}. Choose one of: "
                      f"{', '.join(n for n in STRATEGIES if n not in HIDDEN)}.")
        return None
    params = dict(params or {})
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


def _config(form: Mapping, timeframe: str | None, errors: list[str]) -> BacktestConfig | None:
    n0 = len(errors)
    fee = _number("Fee (bps)", form.get("fee_bps"), 0, 1000, errors, default=4.0)
    slip = _number("Slippage (bps)", form.get("slippage_bps"), 0, 1000, errors, default=2.0)
    sizing = form.get("sizing") or "fixed_fraction"
    if sizing not in SIZING_MODES:
        errors.append(f"Sizing must be one of {', '.join(SIZING_MODES)}, got {sizing!r}.")
    fraction = _number("Position size (% of equity)", form.get("fraction_pct"), 0.01, 100, errors, default=100.0)
    cash = _number("Initial cash", form.get("initial_cash"), 1, 1e12, errors, default=10_000.0)
    per_trade = _number("Cash per trade", form.get("cash_per_trade"), 1, 1e12, errors, default=1_000.0)
    stop = _number("Stop-loss (%)", form.get("stop_loss_pct"), 0.01, 99, errors, optional=True)
    take = _number("Take-profit (%)", form.get("take_profit_pct"), 0.01, 1000, errors, optional=True)
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
    train = _integer("Training window (bars)", form.get("train_bars"), 20, 1_000_000, errors)
    test = _integer("Test window (bars)", form.get("test_bars"), 5, 1_000_000, errors)
    metric = form.get("wf_metric") or "sharpe"
    if metric not in OPTIMISE_METRICS:
        errors.append(f"Walk-forward metric must be one of {', '.join(OPTIMISE_METRICS)}, got {metric!r}.")
    if len(errors) > n0:
        return None
    return {"train_bars": train, "test_bars": test, "metric": metric}


def _symbols(form: Mapping, cat: Catalog, timeframe: str | None, errors: list[str]) -> list[str]:
    raw = form.get("symbols")
    items = [raw] if isinstance(raw, str) else list(raw or [])
    items = [s for s in (str(x).strip() for x in items) if s]
    if not items:
        errors.append("Choose at least one symbol.")
        return []
    out = []
    for s in dict.fromkeys(items):
        try:
            out.append(resolve(cat, s, timeframe)[0])
        except UnknownSeries as exc:
            errors.append(str(exc))
    return out


def parse_request(form: Mapping, cat: Catalog, count_bars: CountBars, now: datetime | None = None,
                  has_model: HasModel | None = None) -> list[RunSpec]:
    """Validate ``form`` (see the module docstring) into one :class:`RunSpec` per job.

    ``has_model(symbol, timeframe)``: is there a champion model (strategies in ``NEEDS_MODEL``)."""
    now = now or datetime.now(timezone.utc)
    errors: list[str] = []
    timeframe = form.get("timeframe") or None
    if not timeframe:
        errors.append("Choose a timeframe.")
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
    if form.get("strategies"):
        wanted = [(s.get("name"), s.get("params")) for s in form["strategies"]]
    else:
        wanted = [(form.get("strategy"), form.get("params"))]
    grids = [g for g in (_strategy_grid(n, p, errors) for n, p in wanted) if g is not None]
    mode = form.get("mode") or "single"
    if mode not in ("single", "walk_forward"):
        errors.append(f"Mode must be 'single' or 'walk_forward', got {mode!r}.")
    wf = _walk_forward(form, errors) if mode == "walk_forward" else None
    config = _config(form, timeframe, errors)
    runs_params: list[tuple[type[Strategy], list[dict]]] = []
    for cls, grid in grids:
        combos = _combos(cls, grid, errors)
        if combos:
            runs_params.append((cls, combos))
    if mode == "walk_forward" and any(len(c) > MAX_GRID for _, c in runs_params):
        errors.append(f"A walk-forward grid may hold at most {MAX_GRID} parameter sets.")
    if errors:
        raise InvalidRequest(errors)

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
