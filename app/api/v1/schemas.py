"""Request and response schemas of ``/api/v1``, declared once: validation, serialisation and the OpenAPI document."""
from __future__ import annotations

import datetime as dt

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


# ----------------------------------------------------------------- shared shapes
# Fields and envelopes many resources repeat, declared once here.


def iso_out(allow_none: bool = False, **metadata) -> ma.fields.String:
    """A response time: an ISO-8601 UTC string (null when ``allow_none``)."""
    return ma.fields.String(required=True, allow_none=allow_none, metadata={**ISO, **metadata})


def symbol_in(**kwargs) -> ma.fields.String:
    """A request's symbol (``BTC/USDT``): 3-32 characters, checked against the catalog by the domain."""
    kwargs.setdefault("required", True)
    kwargs.setdefault("metadata", {"example": "BTC/USDT"})
    return ma.fields.String(validate=ma.validate.Length(min=3, max=32), **kwargs)


def timeframe_in() -> ma.fields.String:
    return ma.fields.String(required=True, validate=ma.validate.Length(max=8), metadata={"example": "1h"})


def list_of(key: str, item, name: str, **extra) -> type:
    """An envelope ``{key: [item, ...], **extra}`` (the component is called ``name``)."""
    inner = ma.fields.Nested(item) if isinstance(item, type) and issubclass(item, ma.Schema) else item
    return Schema.from_dict({**extra, key: ma.fields.List(inner, required=True)}, name=name)


class SeriesRefSchema(Schema):
    """The series a row belongs to."""

    exchange = ma.fields.String(required=True)
    symbol = ma.fields.String(required=True)
    timeframe = ma.fields.String(required=True)


class SeriesSchema(Schema):
    symbol = ma.fields.String(required=True)
    exchange = ma.fields.String(required=True)
    timeframes = ma.fields.List(ma.fields.String(), required=True)
    demo = ma.fields.Boolean(required=True, metadata={"description": "offline demo data, not an exchange's"})


MarketsSchema = list_of("markets", SeriesSchema, "Markets")


class TickerSchema(Schema):
    symbol = ma.fields.String(required=True)
    price = ma.fields.Float(required=True)
    change_24h_pct = ma.fields.Float(required=True)
    volume_24h = ma.fields.Float(required=True)
    time = iso_out()


TickersSchema = list_of("tickers", TickerSchema, "Tickers")


# bar times a nanosecond timestamp can hold (pandas): a later or earlier bound is a 422, not an overflow
BAR_TIME_RANGE = ma.validate.Range(min=dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc),
                                   max=dt.datetime(2262, 1, 1, tzinfo=dt.timezone.utc))


class CandleQuerySchema(Schema):
    symbol = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=32),
                              metadata={"example": "BTC/USDT"})
    timeframe = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=3),
                                 metadata={"example": "1h"})
    start = ma.fields.AwareDateTime(default_timezone=None, load_default=None, validate=BAR_TIME_RANGE,
                                    metadata={"description": "first bar time, inclusive (ISO-8601 with offset)"})
    end = ma.fields.AwareDateTime(default_timezone=None, load_default=None, validate=BAR_TIME_RANGE,
                                  metadata={"description": "bars open before this time (exclusive)"})
    limit = ma.fields.Integer(load_default=1000, validate=ma.validate.Range(min=1, max=10_000),
                              metadata={"description": "bars per page (newest first across pages)"})
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200),
                              metadata={"description": "next_cursor of the previous page"})
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv"]))


class CandleSchema(Schema):
    time = iso_out()
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


SignalsSchema = list_of("signals", SignalSchema, "Signals")


class HistoryQuerySchema(Schema):
    symbol = symbol_in(metadata={})
    limit = ma.fields.Integer(load_default=500, validate=ma.validate.Range(min=1, max=5000))


class ScoreSchema(Schema):
    timeframe = ma.fields.String(required=True)
    bar_time = iso_out()
    score = ma.fields.Float(required=True)
    confidence = ma.fields.Float(required=True)
    label = ma.fields.String(required=True)


class SignalHistorySchema(Schema):
    symbol = ma.fields.String(required=True)
    exchange = ma.fields.String(required=True)
    history = ma.fields.List(ma.fields.Nested(ScoreSchema), required=True)


class PredictionQuerySchema(Schema):
    symbol = symbol_in(metadata={})


class PredictionSchema(Schema):
    timeframe = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True, metadata={"description": "the champion model version"})
    bar_time = iso_out(allow_none=True)
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
    start = iso_out()
    end = iso_out()
    created_at = iso_out()
    started_at = iso_out(allow_none=True)
    finished_at = iso_out(allow_none=True)
    n_bars = ma.fields.Integer(required=True, allow_none=True)
    metrics = ma.fields.Dict(required=True, allow_none=True)
    benchmark_metrics = ma.fields.Dict(required=True, allow_none=True)
    reports = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True,
                             metadata={"description": "report name -> download URL (finished runs)"})


BacktestListSchema = list_of("backtests", BacktestSchema, "BacktestList")


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


# ----------------------------------------------------------------- alerts
# Types and sizes are checked here; what a rule means (kinds, parameters, symbols, channels, times) by
# ``app.alerts.validate.validate_rule``, the Alerts page's validation, so both refuse the same rules.


class IdPathSchema(Schema):
    id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=2_147_483_647))


class AlertRuleRequestSchema(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120), metadata={"example": "BTC up"})
    symbol = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=32),
                              metadata={"description": "a symbol, or null / '*' for the whole watch-list",
                                        "example": "BTC/USDT"})
    timeframe = ma.fields.String(required=True, validate=ma.validate.Length(max=8), metadata={"example": "1h"})
    kind = ma.fields.String(required=True, validate=ma.validate.Length(max=32), metadata={"example": "price_cross_up"})
    params = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(max=32)), load_default=dict,
                            metadata={"description": "the kind's parameters, e.g. {\"level\": 50000}"})
    channels = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=16)), load_default=None,
                              validate=ma.validate.Length(max=4), metadata={"example": ["inapp"]})
    frequency = ma.fields.String(load_default=None, validate=ma.validate.Length(max=16))
    cooldown_s = ma.fields.Integer(load_default=0, strict=True)
    quiet_start = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=5))
    quiet_end = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=5))
    expires_at = ma.fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=None, metadata=ISO)
    paused = ma.fields.Boolean(load_default=False)


class AlertRuleSchema(Schema):
    id = ma.fields.Integer(required=True)
    url = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    exchange = ma.fields.String(required=True)
    symbol = ma.fields.String(required=True, allow_none=True, metadata={"description": "null: the watch-list"})
    timeframe = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    params = ma.fields.Dict(required=True)
    channels = ma.fields.List(ma.fields.String(), required=True)
    frequency = ma.fields.String(required=True)
    cooldown_s = ma.fields.Integer(required=True)
    quiet_start = ma.fields.String(required=True, allow_none=True)
    quiet_end = ma.fields.String(required=True, allow_none=True)
    expires_at = iso_out(allow_none=True)
    paused = ma.fields.Boolean(required=True)
    finished = ma.fields.Boolean(required=True, metadata={"description": "a 'once' rule that has fired"})
    created_at = iso_out()
    updated_at = iso_out()


AlertRuleListSchema = list_of("rules", AlertRuleSchema, "AlertRuleList")


class AlertEventQuerySchema(Schema):
    symbol = ma.fields.String(load_default=None, validate=ma.validate.Length(min=3, max=32))
    search = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(
        ["pending", "sent", "failed", "suppressed"]), metadata={"description": "events with a delivery in this state"})
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class DeliverySchema(Schema):
    channel = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    attempts = ma.fields.Integer(required=True, metadata={"description": "recorded delivery attempts"})
    error = ma.fields.String(required=True, allow_none=True)
    finished_at = iso_out(allow_none=True)


class AlertEventSchema(SeriesRefSchema):
    id = ma.fields.Integer(required=True)
    rule_id = ma.fields.Integer(required=True)
    bar_time = iso_out()
    fired_at = iso_out()
    value = ma.fields.Float(required=True, allow_none=True)
    message = ma.fields.String(required=True)
    read = ma.fields.Boolean(required=True)
    deliveries = ma.fields.List(ma.fields.Nested(DeliverySchema), required=True)


AlertEventListSchema = list_of("events", AlertEventSchema, "AlertEventList")


# ----------------------------------------------------------------- portfolio
# Types here; meaning (kinds, assets, the ledger never going short, order placement against the paper
# account, strategies and their parameters) by app.portfolio, as on the Portfolio page.

PORTFOLIO_NAME = {"description": "1-40 letters, digits, spaces, '-' or '_'", "example": "main"}


PortfolioListSchema = list_of("portfolios", ma.fields.String(), "PortfolioList")


class HoldingsQuerySchema(Schema):
    method = ma.fields.String(load_default="fifo", validate=ma.validate.OneOf(["fifo", "average"]))


class HoldingsSchema(Schema):
    portfolio = ma.fields.String(required=True)
    method = ma.fields.String(required=True)
    summary = ma.fields.Dict(required=True, metadata={"description": "equity, cash, cost, realised and unrealised P&L"})
    positions = ma.fields.List(ma.fields.Dict(), required=True)
    allocation = ma.fields.List(ma.fields.Dict(), required=True)


class TransactionQuerySchema(Schema):
    portfolio = ma.fields.String(load_default="main", validate=ma.validate.Length(max=40), metadata=PORTFOLIO_NAME)


class TransactionFieldsSchema(Schema):
    """One transaction's fields (an update keeps the transaction's portfolio)."""

    time = ma.fields.AwareDateTime(required=True, default_timezone=None, metadata=ISO)
    kind = ma.fields.String(required=True, validate=ma.validate.Length(max=16),
                            metadata={"description": "buy, sell, deposit, withdraw or fee"})
    asset = ma.fields.String(load_default="", validate=ma.validate.Length(max=32), metadata={"example": "BTC/USDT"})
    quantity = ma.fields.Float(required=True, allow_nan=False)
    price = ma.fields.Float(load_default=None, allow_none=True, allow_nan=False)
    fee = ma.fields.Float(load_default=None, allow_none=True, allow_nan=False)
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=500))


class TransactionRequestSchema(TransactionFieldsSchema):
    portfolio = ma.fields.String(load_default="main", validate=ma.validate.Length(max=40), metadata=PORTFOLIO_NAME)


MAX_IMPORT_CHARS = 2_000_000


class ImportRequestSchema(Schema):
    portfolio = ma.fields.String(load_default="main", validate=ma.validate.Length(max=40), metadata=PORTFOLIO_NAME)
    csv = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=MAX_IMPORT_CHARS),
                           metadata={"description": "the file's text: time,kind,asset,quantity,price,fee,note",
                                     "example": "time,kind,asset,quantity,price,fee,note\n"
                                                "2026-01-02T00:00:00Z,deposit,USDT,1000,,,\n"})
    partial = ma.fields.Boolean(load_default=False,
                                metadata={"description": "store the good lines and skip the bad ones"})


class SkippedLineSchema(Schema):
    line = ma.fields.Integer(required=True)
    message = ma.fields.String(required=True)


class ImportResultSchema(Schema):
    portfolio = ma.fields.String(required=True)
    imported = ma.fields.Integer(required=True)
    skipped = ma.fields.List(ma.fields.Nested(SkippedLineSchema), required=True)


class TransactionSchema(Schema):
    id = ma.fields.Integer(required=True)
    time = iso_out()
    kind = ma.fields.String(required=True)
    asset = ma.fields.String(required=True)
    quantity = ma.fields.Float(required=True)
    price = ma.fields.Float(required=True)
    fee = ma.fields.Float(required=True)
    note = ma.fields.String(required=True)


TransactionListSchema = list_of("transactions", TransactionSchema, "TransactionList", portfolio=ma.fields.String(required=True))


class OrderRequestSchema(Schema):
    symbol = symbol_in()
    timeframe = timeframe_in()
    side = ma.fields.String(required=True, validate=ma.validate.OneOf(["buy", "sell"]))
    type = ma.fields.String(load_default="market", validate=ma.validate.OneOf(["market", "limit", "stop"]))
    qty = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(min=0, min_inclusive=False))
    price = ma.fields.Float(load_default=None, allow_none=True, allow_nan=False,
                            validate=ma.validate.Range(min=0, min_inclusive=False),
                            metadata={"description": "the limit or stop level (none for a market order)"})
    tif = ma.fields.String(load_default="gtc", validate=ma.validate.OneOf(["gtc", "ioc"]))


class OrderSchema(SeriesRefSchema):
    id = ma.fields.Integer(required=True)
    side = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    qty = ma.fields.Float(required=True)
    price = ma.fields.Float(required=True, allow_none=True)
    tif = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"description": "open, filled, cancelled or expired"})
    placed_at = iso_out()
    filled_at = iso_out(allow_none=True)
    fill_price = ma.fields.Float(required=True, allow_none=True)
    fee = ma.fields.Float(required=True, allow_none=True)


OrderListSchema = list_of("orders", OrderSchema, "OrderList")


class PaperRequestSchema(Schema):
    symbol = symbol_in()
    timeframe = timeframe_in()
    strategy = ma.fields.String(required=True, validate=ma.validate.Length(max=32), metadata={"example": "sma_cross"})
    params = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(max=32)), load_default=dict)
    initial_cash = ma.fields.Float(load_default=10_000.0, allow_nan=False,
                                   validate=ma.validate.Range(min=0, min_inclusive=False, max=1e12),
                                   metadata={"description": "virtual cash"})
    stop_loss_pct = ma.fields.Float(load_default=None, allow_none=True, allow_nan=False,
                                    validate=ma.validate.Range(min=0, min_inclusive=False, max=100, max_inclusive=False))
    start = ma.fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=None,
                                    metadata={"description": "first bar to trade (default: now)"})


class PaperStrategySchema(SeriesRefSchema):
    id = ma.fields.Integer(required=True)
    url = ma.fields.String(required=True)
    strategy = ma.fields.String(required=True)
    params = ma.fields.Dict(required=True)
    status = ma.fields.String(required=True, metadata={"description": "active or stopped"})
    start_at = iso_out()
    processed_through = iso_out(allow_none=True)
    initial_cash = ma.fields.Float(required=True)
    equity = ma.fields.Float(required=True, allow_none=True)
    fills = ma.fields.List(ma.fields.Dict(), metadata={"description": "every fill (one strategy's view only)"})


PaperStrategyListSchema = list_of("strategies", PaperStrategySchema, "PaperStrategyList")


# ----------------------------------------------------------------- admin


class UserQuerySchema(Schema):
    search = ma.fields.String(load_default=None, validate=ma.validate.Length(max=254),
                              metadata={"description": "part of the e-mail address"})
    role = ma.fields.String(load_default=None, validate=ma.validate.OneOf(["admin", "trader", "viewer"]))


class AdminUserSchema(Schema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    active = ma.fields.Boolean(required=True)
    created_at = iso_out(allow_none=True)
    last_login_at = iso_out(allow_none=True)
    last_activity_at = iso_out(allow_none=True)


AdminUserListSchema = list_of("users", AdminUserSchema, "AdminUserList")


class UserChangeSchema(Schema):
    """Exactly one change per request, so a refused one never leaves the other applied."""

    role = ma.fields.String(validate=ma.validate.OneOf(["admin", "trader", "viewer"]))
    active = ma.fields.Boolean()

    @ma.validates_schema
    def one_change(self, data, **_kwargs):
        if len(data) != 1:
            raise ma.ValidationError("send exactly one of role or active", field_name="_schema")


class QueueSchema(Schema):
    name = ma.fields.String(required=True)
    queued = ma.fields.Integer(required=True)
    started = ma.fields.Integer(required=True)
    failed = ma.fields.Integer(required=True)


class WorkerSchema(Schema):
    name = ma.fields.String(required=True)
    state = ma.fields.String(required=True)
    queues = ma.fields.List(ma.fields.String(), required=True)
    current_job = ma.fields.String(required=True, allow_none=True)


class JobsSchema(Schema):
    embedded = ma.fields.Boolean(required=True, metadata={"description": "jobs run in-process (no RQ queues)"})
    queues = ma.fields.List(ma.fields.Nested(QueueSchema), required=True)
    workers = ma.fields.List(ma.fields.Nested(WorkerSchema), required=True)


class FailedJobSchema(Schema):
    id = ma.fields.String(required=True)
    queue = ma.fields.String(required=True)
    func = ma.fields.String(required=True)
    ended_at = ma.fields.String(required=True, allow_none=True)
    traceback = ma.fields.String(required=True)


FailedJobListSchema = list_of("failed", FailedJobSchema, "FailedJobList")


class StopRequestSchema(Schema):
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=500))


class SystemStateSchema(Schema):
    stopped = ma.fields.Boolean(required=True)
    by = ma.fields.String(required=True, allow_none=True)
    at = iso_out(allow_none=True)
    reason = ma.fields.String(required=True, allow_none=True)
    workers_suspended = ma.fields.Boolean(required=True)


class CreateUserSchema(Schema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=254),
                             metadata={"example": "analyst@example.com"})
    role = ma.fields.String(load_default="trader", validate=ma.validate.OneOf(["admin", "trader", "viewer"]))


class UserPasswordSchema(Schema):
    """A user with the generated password, shown only in this answer (stored hashed, never again readable)."""

    user = ma.fields.Nested(AdminUserSchema, required=True)
    password = ma.fields.String(required=True, metadata={"description": "one-time: hand it over, it is not kept"})


class DeleteUserQuerySchema(Schema):
    confirm = ma.fields.String(required=True, validate=ma.validate.Length(max=254),
                               metadata={"description": "the user's e-mail address, to confirm the deletion"})


OWNED = {"description": "kind of row -> how many (alert rules, events, transactions, backtests, sessions, ...)"}


class DeletionPreviewSchema(Schema):
    user = ma.fields.Nested(AdminUserSchema, required=True)
    owned = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True,
                           metadata={"description": "what deleting the user also deletes: " + OWNED["description"]})


class DeletedUserSchema(Schema):
    email = ma.fields.String(required=True)
    deleted = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True, metadata=OWNED)


class JobActionSchema(Schema):
    id = ma.fields.String(required=True)
    queue = ma.fields.String(required=True)
    action = ma.fields.String(required=True, metadata={"description": "requeued or deleted"})


class CacheClearRequestSchema(Schema):
    area = ma.fields.String(required=True, validate=ma.validate.OneOf(
        ["live", "live:candles", "live:ticker", "signals", "catalog", "feeds"]),  # app.hot.cache_admin.CLEARABLE
        metadata={"description": "the hot-state area whose keys go (the emergency stop, breakers and RQ never do)"})


class CacheClearedSchema(Schema):
    prefix = ma.fields.String(required=True, metadata={"description": "the key prefix that was cleared"})
    keys_removed = ma.fields.Integer(required=True)


# ----------------------------------------------------------------- notification settings
# Types here; meaning (time zone, quiet hours, addresses, the webhook URL) by
# ``app.alerts.validate.validate_settings``, the Alerts page's check.


class NotificationSettingsRequestSchema(Schema):
    timezone = ma.fields.String(load_default="UTC", validate=ma.validate.Length(max=64),
                                metadata={"example": "Europe/Berlin"})
    quiet_start = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=5),
                                   metadata={"description": "HH:MM (with quiet_end), in the user's time zone"})
    quiet_end = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=5))
    telegram_chat_id = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=64))
    email = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=254))
    webhook_url = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))
    webhook_format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "discord", "slack"]))
    webhook_secret = ma.fields.String(load_default=None, allow_none=True, load_only=True,
                                      validate=ma.validate.Length(max=256),
                                      metadata={"description": "write-only, 16-256 characters; empty keeps the stored one"})
    alerts_paused = ma.fields.Boolean(load_default=False)


class NotificationSettingsSchema(Schema):
    timezone = ma.fields.String(required=True)
    quiet_start = ma.fields.String(required=True, allow_none=True)
    quiet_end = ma.fields.String(required=True, allow_none=True)
    telegram_chat_id = ma.fields.String(required=True, allow_none=True)
    email = ma.fields.String(required=True, allow_none=True)
    webhook_url = ma.fields.String(required=True, allow_none=True)
    webhook_format = ma.fields.String(required=True)
    alerts_paused = ma.fields.Boolean(required=True)
    webhook_secret_set = ma.fields.Boolean(required=True, metadata={"description": "a secret is stored (never shown)"})
    updated_at = iso_out(allow_none=True)


# ----------------------------------------------------------------- model versions


class ModelQuerySchema(Schema):
    symbol = symbol_in(required=False, load_default=None,
                       metadata={"description": "one symbol; every stored symbol when omitted"})


class ModelVersionSchema(Schema):
    symbol = ma.fields.String(required=True)
    timeframe = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    champion = ma.fields.Boolean(required=True)
    trained_until = ma.fields.String(required=True, metadata={"description": "YYYY-MM-DD HH:MM (UTC)"})
    oos_n = ma.fields.Integer(required=True, allow_none=True)
    oos_accuracy = ma.fields.Float(required=True, allow_none=True)
    base_rate_accuracy = ma.fields.Float(required=True, allow_none=True)
    persistence_accuracy = ma.fields.Float(required=True, allow_none=True)
    oos_log_loss = ma.fields.Float(required=True, allow_none=True)
    base_rate_log_loss = ma.fields.Float(required=True, allow_none=True)
    persistence_log_loss = ma.fields.Float(required=True, allow_none=True)
    edge = ma.fields.String(required=True, allow_none=True)


ModelVersionListSchema = list_of("models", ModelVersionSchema, "ModelVersionList")
