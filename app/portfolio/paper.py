"""Paper trading a backtest strategy: the engine's own run over the stored closed bars, turned into fills.

A paper strategy is ``(exchange, symbol, timeframe, strategy, params, BacktestConfig, start_at)``.
Each step runs **the backtest engine** (``app.backtest.engine.run_backtest``, the same kernel and
cost model: fills at the next bar's open, taker fee and slippage on market orders, maker fee on
take-profit, stops inside the bar, gaps through a stop filled at the open) over the closed bars from
``start_at`` to the latest one, with ``close_at_end`` off (an open position stays open), and keeps
the fills it has not stored yet. The strategy's indicators read from ``warmup_from``
(``WARMUP_BARS`` bars before ``start_at``), a fixed point, so every step sees the same history.

Why a re-run and not a bar-by-bar state machine: the engine is causal (the target at bar ``t`` is
executed at ``t+1``; sizing, slippage and stops read nothing later), so the fills of bars up to
``t`` are the same whatever follows ``t``. A step over more bars therefore reproduces the stored
fills and adds the new ones; a step that missed bars (worker down) catches them up in order; a
replayed step adds nothing (fills are unique on (strategy, trade number, leg)). A reconciliation
(``app.portfolio.reconcile``) checks exactly this against one backtest of the whole span.

Fill fees: the engine reports a trade's total fees; the entry leg is a market order
(``qty * entry_price * taker_fee``), the exit leg the rest.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from app.backtest.config import BacktestConfig
from app.backtest.engine import BacktestResult, run_backtest
from app.backtest.strategies import STRATEGIES, get_strategy
from app.marketdata import timeframe_delta

WARMUP_BARS = 300


@dataclass(frozen=True)
class PaperSpec:
    exchange: str
    symbol: str
    timeframe: str
    strategy: str
    params: dict
    config: BacktestConfig
    start_at: pd.Timestamp

    @property
    def warmup_from(self) -> pd.Timestamp:
        return self.start_at - WARMUP_BARS * timeframe_delta(self.timeframe)

    @property
    def engine_config(self) -> BacktestConfig:
        return replace(self.config, close_at_end=False, timeframe=self.timeframe)


@dataclass(frozen=True)
class Fill:
    trade_no: int
    leg: str          # entry / exit
    side: str         # buy / sell
    qty: float
    price: float
    fee: float
    time: pd.Timestamp
    reason: str

    @property
    def key(self) -> tuple[int, str]:
        return self.trade_no, self.leg

    def to_dict(self) -> dict:
        return {"trade_no": self.trade_no, "leg": self.leg, "side": self.side, "qty": self.qty,
                "price": self.price, "fee": self.fee, "time": pd.Timestamp(self.time).isoformat(),
                "reason": self.reason}


def make_spec(*, exchange: str, symbol: str, timeframe: str, strategy: str, params: dict | None,
              config: BacktestConfig | dict | None, start_at) -> PaperSpec:
    """Validate a paper strategy; raise ``ValueError`` naming the field."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy: unknown {strategy!r}; expected one of {sorted(STRATEGIES)}")
    try:
        timeframe_delta(timeframe)
    except ValueError as exc:
        raise ValueError(f"timeframe: {exc}") from None
    if isinstance(config, dict):
        try:
            config = BacktestConfig.from_dict(config)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"config: {exc}") from None
    config = config or BacktestConfig()
    known = {p.name: p for p in STRATEGIES[strategy].params}
    params = dict(params or {})
    unknown = set(params) - set(known)
    if unknown:
        raise ValueError(f"params: unknown parameters {sorted(unknown)}; expected {sorted(known)}")
    try:
        values = {n: p.validate(params.get(n, p.default)) for n, p in known.items()}
    except ValueError as exc:
        raise ValueError(f"params: {exc}") from None
    start = pd.Timestamp(start_at)
    if start.tzinfo is None:
        raise ValueError("start_at: must be timezone-aware UTC")
    return PaperSpec(exchange, symbol, timeframe, strategy, dict(values), config, start.tz_convert("UTC"))


def run(spec: PaperSpec, candles: pd.DataFrame, series: pd.Series | None = None) -> BacktestResult | None:
    """The engine's run of ``spec`` over ``candles`` (from ``warmup_from``; bars before ``start_at``
    only feed the indicators). None while fewer than two bars from ``start_at`` exist."""
    strategy = get_strategy(spec.strategy, series, **spec.params)
    signal = strategy.signals(candles)                    # causal: bar t reads bars <= t
    traded = candles.loc[candles.index >= spec.start_at]
    if len(traded) < 2:
        return None
    if not traded.attrs.get("symbol"):
        traded.attrs["symbol"] = spec.symbol
    return run_backtest(traded, signal.loc[traded.index], spec.engine_config,
                        strategy={"name": strategy.name, "params": dict(strategy.values)})


def fills(result: BacktestResult | None) -> list[Fill]:
    """Every executed order of a run, in time order: each trade's entry, and its exit unless still open."""
    if result is None:
        return []
    taker = float(result.config["costs"]["taker_fee"])
    out: list[Fill] = []
    for no, t in enumerate(result.trades.itertuples(index=False)):
        long = t.side == "long"
        entry_fee = t.qty * t.entry_price * taker
        out.append(Fill(no, "entry", "buy" if long else "sell", float(t.qty), float(t.entry_price), entry_fee,
                        t.entry_time, "signal"))
        if t.exit_reason != "open":
            out.append(Fill(no, "exit", "sell" if long else "buy", float(t.qty), float(t.exit_price),
                            float(t.fees) - entry_fee, t.exit_time, str(t.exit_reason)))
    out.sort(key=lambda f: (f.time, f.trade_no, f.leg != "exit"))
    return out
