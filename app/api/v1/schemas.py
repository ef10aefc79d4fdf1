"""Request and response schemas of ``/api/v1``, declared once: validation, serialisation and the OpenAPI document."""
from __future__ import annotations

import marshmallow as ma


class Schema(ma.Schema):
    class Meta:
        ordered = True


class MeSchema(Schema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    scopes = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "what this token may do now"})
    token_id = ma.fields.Integer(required=True)


ISO = {"description": "ISO-8601 UTC time, e.g. 2026-01-02T03:04:00+00:00"}


class SeriesSchema(Schema):
    symbol = ma.fields.String(required=True)
    exchange = ma.fields.String(required=True)
    timeframes = ma.fields.List(ma.fields.String(), required=True)
    demo = ma.fields.Boolean(required=True, metadata={"description": "offline demo data, not an exchange's"})


class MarketsSchema(Schema):
    markets = ma.fields.List(ma.fields.Nested(SeriesSchema), required=True)


class TickerSchema(Schema):
    symbol = ma.fields.String(required=True)
    price = ma.fields.Float(required=True)
    change_24h_pct = ma.fields.Float(required=True)
    volume_24h = ma.fields.Float(required=True)
    time = ma.fields.String(required=True, metadata=ISO)


class TickersSchema(Schema):
    tickers = ma.fields.List(ma.fields.Nested(TickerSchema), required=True)


class CandleQuerySchema(Schema):
    symbol = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=32),
                              metadata={"example": "BTC/USDT"})
    timeframe = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=3),
                                 metadata={"example": "1h"})
    start = ma.fields.AwareDateTime(default_timezone=None, load_default=None,
                                    metadata={"description": "first bar time, inclusive (ISO-8601 with offset)"})
    end = ma.fields.AwareDateTime(default_timezone=None, load_default=None,
                                  metadata={"description": "bars open before this time (exclusive)"})
    limit = ma.fields.Integer(load_default=1000, validate=ma.validate.Range(min=1, max=10_000),
                              metadata={"description": "bars per page (newest first across pages)"})
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200),
                              metadata={"description": "next_cursor of the previous page"})
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv"]))


class CandleSchema(Schema):
    time = ma.fields.String(required=True, metadata=ISO)
    open = ma.fields.Float(required=True)
    high = ma.fields.Float(required=True)
    low = ma.fields.Float(required=True)
    close = ma.fields.Float(required=True)
    volume = ma.fields.Float(required=True)


class CandlePageSchema(Schema):
    symbol = ma.fields.String(required=True)
    timeframe = ma.fields.String(required=True)
    exchange = ma.fields.String(required=True)
    candles = ma.fields.List(ma.fields.Nested(CandleSchema), required=True,
                             metadata={"description": "ascending by time within the page"})
    next_cursor = ma.fields.String(required=True, allow_none=True,
                                   metadata={"description": "older bars: pass as cursor; null on the last page"})


class SymbolQuerySchema(Schema):
    symbol = ma.fields.String(load_default=None, validate=ma.validate.Length(min=3, max=32),
                              metadata={"description": "one symbol; every stored symbol when omitted"})


class SignalSchema(Schema):
    symbol = ma.fields.String(required=True)
    exchange = ma.fields.String(required=True)
    snapshot = ma.fields.Dict(required=True, allow_none=True,
                              metadata={"description": "the latest analysis: fused and per-timeframe scores, "
                                                       "labels, reasons, events; null when not analysed yet"})


class SignalsSchema(Schema):
    signals = ma.fields.List(ma.fields.Nested(SignalSchema), required=True)


class HistoryQuerySchema(Schema):
    symbol = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=32))
    limit = ma.fields.Integer(load_default=500, validate=ma.validate.Range(min=1, max=5000))


class ScoreSchema(Schema):
    timeframe = ma.fields.String(required=True)
    bar_time = ma.fields.String(required=True, metadata=ISO)
    score = ma.fields.Float(required=True)
    confidence = ma.fields.Float(required=True)
    label = ma.fields.String(required=True)


class SignalHistorySchema(Schema):
    symbol = ma.fields.String(required=True)
    exchange = ma.fields.String(required=True)
    history = ma.fields.List(ma.fields.Nested(ScoreSchema), required=True)


class PredictionQuerySchema(Schema):
    symbol = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=32))


class PredictionSchema(Schema):
    timeframe = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True, metadata={"description": "the champion model version"})
    bar_time = ma.fields.String(required=True, allow_none=True, metadata=ISO)
    p_up = ma.fields.Float(required=True, allow_none=True)
    oos_n = ma.fields.Integer(allow_none=True)
    oos_accuracy = ma.fields.Float(allow_none=True)
    base_rate_accuracy = ma.fields.Float(allow_none=True)
    persistence_accuracy = ma.fields.Float(allow_none=True)
    beats_baselines = ma.fields.Boolean(allow_none=True)


class PredictionsSchema(Schema):
    symbol = ma.fields.String(required=True)
    predictions = ma.fields.List(ma.fields.Nested(PredictionSchema), required=True)


class BacktestListQuerySchema(Schema):
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))
    batch_id = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^[0-9a-f]{32}$"),
                                metadata={"description": "only the runs of one batch"})


class BacktestSchema(Schema):
    id = ma.fields.Integer(required=True)
    url = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"description": "queued, running, finished or failed"})
    progress = ma.fields.Float(required=True, metadata={"description": "percent"})
    phase = ma.fields.String(required=True, allow_none=True)
    error = ma.fields.String(required=True, allow_none=True)
    kind = ma.fields.String(required=True, metadata={"description": "single or walk_forward"})
    batch_id = ma.fields.String(required=True, allow_none=True)
    exchange = ma.fields.String(required=True)
    symbol = ma.fields.String(required=True)
    timeframe = ma.fields.String(required=True)
    strategy = ma.fields.String(required=True)
    params = ma.fields.Dict(required=True)
    start = ma.fields.String(required=True, metadata=ISO)
    end = ma.fields.String(required=True, metadata=ISO)
    created_at = ma.fields.String(required=True, metadata=ISO)
    started_at = ma.fields.String(required=True, allow_none=True, metadata=ISO)
    finished_at = ma.fields.String(required=True, allow_none=True, metadata=ISO)
    n_bars = ma.fields.Integer(required=True, allow_none=True)
    metrics = ma.fields.Dict(required=True, allow_none=True)
    benchmark_metrics = ma.fields.Dict(required=True, allow_none=True)
    reports = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True,
                             metadata={"description": "report name -> download URL (finished runs)"})


class BacktestListSchema(Schema):
    backtests = ma.fields.List(ma.fields.Nested(BacktestSchema), required=True)


# The submit body. ``app.backtest.requests.FIELDS`` is the one declaration of the form's fields, but
# importing it loads the backtest engine (numba), which a server without jobs must not; so the
# numeric fields' names and ranges are repeated here and a test checks they equal FIELDS. Types are
# checked here; ranges, the catalog, the caps and the combinations by the same ``parse_request`` the
# Backtests page uses, so both refuse the same requests.
NUMBER_FIELDS = {  # key: (label, lo, hi, integer)
    "fee_bps": ("Fee (bps)", 0, 1000, False),
    "slippage_bps": ("Slippage (bps)", 0, 1000, False),
    "fraction_pct": ("Position size (% of equity)", 0.01, 100, False),
    "initial_cash": ("Initial cash", 1, 1e12, False),
    "cash_per_trade": ("Cash per trade", 1, 1e12, False),
    "stop_loss_pct": ("Stop-loss (%)", 0.01, 99, False),
    "take_profit_pct": ("Take-profit (%)", 0.01, 1000, False),
    "train_bars": ("Training window (bars)", 20, 1_000_000, True),
    "test_bars": ("Test window (bars)", 5, 1_000_000, True),
}
CHOICE_FIELDS = ("timeframe", "mode", "sizing", "wf_metric")  # checked by parse_request, listed in its messages
MAX_SYMBOLS, MAX_STRATEGIES = 20, 10


def _backtest_request_fields() -> dict:
    out: dict = {
        "symbols": ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=32)), required=True,
                                  validate=ma.validate.Length(min=1, max=MAX_SYMBOLS),
                                  metadata={"example": ["BTC/USDT"]}),
        "timeframe": ma.fields.String(required=True, validate=ma.validate.Length(max=8), metadata={"example": "1h"}),
        "start": ma.fields.String(required=True, validate=ma.validate.Length(max=40),
                                  metadata={"description": "YYYY-MM-DD or ISO datetime (UTC)"}),
        "end": ma.fields.String(required=True, validate=ma.validate.Length(max=40),
                                metadata={"description": "YYYY-MM-DD (inclusive) or ISO datetime (exclusive)"}),
        "strategy": ma.fields.String(validate=ma.validate.Length(max=64), metadata={"example": "sma_cross"}),
        "params": ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(max=64)),
                                 metadata={"description": "name -> value, list of values (a batch) or 'a, b, c'"}),
        "strategies": ma.fields.List(ma.fields.Dict(), validate=ma.validate.Length(max=MAX_STRATEGIES),
                                     metadata={"description": "[{name, params}, ...]: several strategies"}),
        "mode": ma.fields.String(validate=ma.validate.OneOf(["single", "walk_forward"])),
        "sizing": ma.fields.String(validate=ma.validate.Length(max=32)),
        "wf_metric": ma.fields.String(validate=ma.validate.Length(max=32)),
    }
    for key, (label, lo, hi, integer) in NUMBER_FIELDS.items():
        meta = {"description": label, "minimum": lo, "maximum": hi}
        out[key] = (ma.fields.Integer(allow_none=True, strict=True, metadata=meta) if integer
                    else ma.fields.Float(allow_none=True, allow_nan=False, metadata=meta))
    return out


BacktestRequestSchema = Schema.from_dict(_backtest_request_fields(), name="BacktestRequest")


class SubmittedSchema(Schema):
    ids = ma.fields.List(ma.fields.Integer(), required=True)
    batch_id = ma.fields.String(required=True, allow_none=True)
    job_id = ma.fields.String(required=True)
    url = ma.fields.String(required=True, metadata={"description": "poll this for status and progress"})
