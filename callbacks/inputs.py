"""What each callback accepts from the browser: one schema per form or callback (``app.validation``).

A callback calls its schema on its first line; a value of the wrong type raises ``InvalidInput``,
and ``pages._input_errors.show_invalid_input`` (the Dash app's ``on_error``) answers with the
field's message in the component the schema names (``show_in``; the shell's message bar by
default) instead of a 500.
"""
from __future__ import annotations

import math
import re

from app.validation import (Boolean, boolean, Choice, Ignored, Clicks, Field, InvalidInput, Integer, JobId, Listing, RecordId,
                            RecordIds, Schema, Text, choice, integer, listing, mapping, record_id, record_ids, text,
                            triggered)
from pages.admin import MODELS_MSG as ADMIN_MODELS_MSG
from pages.admin import PING_OUT as ADMIN_PING_OUT
from pages.admin import TRAIN_OUT as ADMIN_TRAIN_OUT
from pages.admin import USERS_MSG as ADMIN_USERS_MSG
from pages.backtests import FORM_MSG as BT_FORM_MSG
from pages.alerts import FORM_MSG as AL_FORM_MSG
from pages.alerts import PARAM as AL_PARAM
from pages.alerts import RULES_MSG as AL_RULES_MSG
from pages.alerts import S_MSG as AL_SETTINGS_MSG
from pages.alerts import TEST as AL_TEST
from pages.backtests import PARAM as BT_PARAM
from pages.portfolio import IMPORT_MSG as PF_IMPORT_MSG
from pages.portfolio import OR_MSG as PF_ORDER_MSG
from pages.portfolio import PS_MSG as PF_PAPER_MSG
from pages.portfolio import RECON as PF_RECON
from pages.portfolio import TX_MSG as PF_TX_MSG

SYMBOL_MAX = 40  # "BASE/QUOTE" of ASCII letters and digits (app.market.symbols); the catalog checks the rest
MODEL_KEY = re.compile(r"[A-Za-z0-9/._-]{1,40}\|[0-9a-z]{1,4}(\|\d{1,9})?")


class PageSchema(Schema):
    """A :class:`Schema` whose messages show in one component of the page (``show_in``)."""

    def __init__(self, show_in: str | None = None, **fields: Field):
        super().__init__(**fields)
        self.show_in = show_in

    def __call__(self, *values):
        try:
            return super().__call__(*values)
        except InvalidInput as exc:
            exc.show_in = self.show_in
            raise


def _shown_in(target: str, exc: InvalidInput) -> InvalidInput:
    exc.show_in = target
    return exc


def _symbol(label: str) -> Field:
    return Text(label, max_len=SYMBOL_MAX, optional=True)


def _timeframe(label: str = "Timeframe") -> Field:
    return Text(label, max_len=8, optional=True)


def _version() -> Field:
    """A page's change counter (a ``dcc.Store`` the page bumps after each write)."""
    return Integer("Page version", minimum=0, optional=True)


def _what(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    return {list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


def _form_value(value, field, *, max_len: int = 40):
    """A number as a form field holds it: text (the domain's parser reads it and names what is wrong) or a
    finite number; never true/false, a list or a mapping. Returned as sent."""
    if value is None:
        return None
    if isinstance(value, str):
        return text(value, field, max_len=max_len)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(field, f"{field} must be a number or text, got {_what(value)}.")
    if not math.isfinite(value):
        raise InvalidInput(field, f"{field} must be finite, got {value}.")
    return value


def FormValue(label: str, **options) -> Field:  # noqa: N802 - reads as a field type in a schema
    return Field(label, _form_value, options)


def _texts(value, field, *, max_items: int, max_len: int) -> list[str]:
    """A list of short texts (a checklist's values)."""
    return [text(v, f"{field}[{k}]", max_len=max_len) for k, v in enumerate(listing(value, field, max_items=max_items))]


def _selected(value, field, *, row: bool = False):
    """A DataTable's selection, sent as the pair ``(selected_rows, data)``: the selected row's ``id`` (or,
    with ``row``, the whole row); ``None`` when no row is selected or the selection is past the data."""
    selected, data = value
    picked = listing(selected, f"{field} selection", max_items=10_000)
    if not picked:
        return None
    k = integer(picked[0], f"{field} selection", minimum=0)
    rows = listing(data, f"{field} table", max_items=100_000)
    if k >= len(rows):
        return None
    chosen = mapping(rows[k], f"{field} row", optional=False)
    return chosen if row else record_id(chosen.get("id"), f"{field} id")


def Selection(label: str, **options) -> Field:  # noqa: N802
    return Field(label, _selected, options)


# -- market and signals --------------------------------------------------------------------------

SHELL_TICK = PageSchema(tick=Ignored("refresh"))  # the shell's banner interval (degraded mode)
MARKET_CHART = PageSchema(symbol=_symbol("Symbol"), timeframe=_timeframe(), tick=Ignored("refresh"))
def _market_choices(options: tuple[str, ...]):
    def parse(value, field):
        items = listing(value, field, max_items=len(options))
        for item in items:
            choice(item, field, options)
        return [o for o in options if o in items]
    return parse


def _market_count(value, field):
    from app.market.charts.layouts import COUNTS

    n = integer(value, field, minimum=1, maximum=4, optional=True)
    if n is not None and n not in COUNTS:
        raise InvalidInput(field, f"{field} must be one of {', '.join(map(str, COUNTS))}, got {n}.")
    return n or 1


def _market_period(value, field, default):
    n = integer(value, field, minimum=2, maximum=400, optional=True)
    return default if n is None else n


class _MarketCharts:
    """The trader chart callback's values (``callbacks.market.update_chart``, in its argument order) as
    ``{"count", "log", "charts": [{symbol, timeframe, overlays, panes, sma, ema, relayout}], "seen", "trades"}``."""

    show_in = None

    def __init__(self, charts: int = 4):
        from app.market.charts.layouts import DEFAULT_EMA, DEFAULT_SMA, OVERLAYS, PANES

        self.charts = charts
        self.overlays, self.panes = _market_choices(OVERLAYS), _market_choices(PANES)
        self.defaults = DEFAULT_SMA, DEFAULT_EMA

    @staticmethod
    def _name(k: int) -> str:
        return "" if k == 0 else f"Chart {k + 1} "

    def _chart(self, k: int, symbol, timeframe, overlays, panes, sma, ema) -> dict:
        name = self._name(k)
        return {"symbol": text(symbol, f"{name}symbol".capitalize(), max_len=SYMBOL_MAX, optional=True),
                "timeframe": text(timeframe, f"{name}timeframe".capitalize(), max_len=8, optional=True),
                "overlays": self.overlays(overlays, f"{name}overlays".capitalize()),
                "panes": self.panes(panes, f"{name}panes".capitalize()),
                "sma": _market_period(sma, f"{name}SMA period".strip(), self.defaults[0]),
                "ema": _market_period(ema, f"{name}EMA period".strip(), self.defaults[1])}

    def __call__(self, *values):
        n = self.charts
        if len(values) != 5 + 5 + 7 * (n - 1) + n + 1:
            raise TypeError(f"expected {5 + 5 + 7 * (n - 1) + n + 1} values, got {len(values)}")
        symbol0, tf0, _tick, count, log = values[:5]
        rest = list(values[5:])
        charts = []
        for k in range(n):
            symbol, timeframe = (symbol0, tf0) if k == 0 else (rest.pop(0), rest.pop(0))
            overlays, panes, sma, ema, relayout = (rest.pop(0) for _ in range(5))
            chart = self._chart(k, symbol, timeframe, overlays, panes, sma, ema)
            chart["relayout"] = mapping(relayout, f"{self._name(k)}chart view".strip().capitalize())
            charts.append(chart)
        seen = [mapping(rest.pop(0), f"{self._name(k)}chart state".strip().capitalize()) or None for k in range(n)]
        src = mapping(rest.pop(0), "Chart marks")
        return {"count": _market_count(count, "Charts"), "log": boolean(log, "Log price axis"), "charts": charts,
                "seen": seen, "trades": {"backtest": record_id(src.get("backtest"), "Backtest", optional=True),
                                         "paper": record_id(src.get("paper"), "Paper strategy", optional=True)}}


class _MarketLayout(_MarketCharts):
    """The layout the save callback stores: ``(count, link, log, *per chart (symbol, timeframe, overlays, panes,
    sma, ema))`` as a layout document (``app.market.charts.layouts``)."""

    def __call__(self, *values):
        n = self.charts
        if len(values) != 3 + 6 * n:
            raise TypeError(f"expected {3 + 6 * n} values, got {len(values)}")
        count, link, log = values[:3]
        charts = [self._chart(k, *values[3 + 6 * k: 9 + 6 * k]) for k in range(n)]
        return {"v": 1, "count": _market_count(count, "Charts"), "link": boolean(link, "Linked crosshair"),
                "log": boolean(log, "Log price axis"), "charts": charts}


MARKET_CHARTS = _MarketCharts()
MARKET_LAYOUT = _MarketLayout()
MARKET_COUNT = PageSchema(count=Field("Charts", _market_count, {}))



def _chart_state(value, _field):
    """A chart's store as the page kept it, or None: a value that is not a mapping is a store this code did
    not write, and the freshness line then says nothing (it never refuses: it is shown on every tick)."""
    return value if isinstance(value, dict) else None


MARKET_FEED = PageSchema(tick=Ignored("feed poll"),
                         **{f"seen{k}": Field(f"Chart {k + 1} state", _chart_state, {}) for k in range(4)})

SIGNALS_DETAIL = PageSchema(symbol=_symbol("Symbol"), timeframe=_timeframe(), tick=Ignored("refresh"))
SIGNALS_SYMBOL = PageSchema(symbol=_symbol("Symbol"))


def _plot_click(value, field):
    """A plotly ``clickData``: ``{"points": [{"y": <text>, ...}, ...]}``; returns the first point's ``y``."""
    data = mapping(value, field)
    points = listing(data.get("points"), f"{field} points")
    if not points:
        return None
    first = mapping(points[0], f"{field} point")
    return text(first.get("y"), f"{field} point", max_len=SYMBOL_MAX, optional=True)


def _table_row_id(value, field, kind=text, **options):
    """A DataTable ``active_cell``: ``{"row": n, "column": n, "column_id": .., "row_id": ..}``; returns ``row_id``."""
    cell = mapping(value, field)
    return kind(cell.get("row_id"), f"{field} row", optional=True, **options)


SIGNALS_PICK = PageSchema(heatmap=Field("Heatmap click", _plot_click, {}),
                          table=Field("Table cell", _table_row_id, {"max_len": SYMBOL_MAX}),
                          options=Listing("Symbol options", max_items=1_000))


# -- backtests --------------------------------------------------------------------------------------

BT_STRATEGY = PageSchema(strategy=Text("Strategy", optional=True, max_len=60))
BT_RESULT = PageSchema(run=RecordId("Run id", optional=True))
BT_COMPARE = PageSchema(runs=RecordIds("Selected runs", max_items=50))
BT_HISTORY_CELL = PageSchema(cell=Field("History cell", _table_row_id, {"kind": record_id}), data=Ignored("history"))


def strategy_params(values, ids) -> dict:
    """The strategy's parameter fields as ``{name: value}``; each id must be one of the page's own."""
    try:
        values = listing(values, "Strategy parameters", max_items=50)
        ids = listing(ids, "Strategy parameter ids", max_items=50)
        if len(values) != len(ids):
            raise InvalidInput("Strategy parameters", "Strategy parameters: values and fields do not match.")
        names = []
        for k, pid in enumerate(ids):
            _, name = triggered(pid, f"Strategy parameter {k + 1}", (BT_PARAM,))
            names.append(text(name, f"Strategy parameter {k + 1} name", max_len=40))
        return dict(zip(names, values))
    except InvalidInput as exc:
        raise _shown_in(BT_FORM_MSG, exc) from None


def followed_runs(active) -> list[int]:
    """The runs a submitted form follows: ``{"ids": [id, ...], "batch_id": ...}`` as the page stored it."""
    try:
        return record_ids(mapping(active, "Followed runs").get("ids"), "Followed run ids", max_items=100)
    except InvalidInput as exc:
        raise _shown_in(BT_FORM_MSG, exc) from None


# -- admin ----------------------------------------------------------------------------------------

ADMIN_TOGGLE = PageSchema(ADMIN_USERS_MSG, activate=Clicks("Activate buttons"), deactivate=Clicks("Deactivate buttons"))
ADMIN_CHAMPION = PageSchema(ADMIN_MODELS_MSG, promote=Clicks("Promote buttons"), rollback=Clicks("Roll back buttons"))
ADMIN_TRAIN = PageSchema(ADMIN_TRAIN_OUT, clicks=Ignored("train"), symbol=Text("Symbol", max_len=SYMBOL_MAX, optional=True),
                         timeframe=_timeframe(), epochs=Integer("Max epochs", minimum=1, maximum=200, optional=True))
ADMIN_PING_POLL = PageSchema(ADMIN_PING_OUT, tick=Ignored("poll"), job=JobId("Ping job"))
ADMIN_TRAIN_POLL = PageSchema(ADMIN_TRAIN_OUT, tick=Ignored("poll"), job=JobId("Training job"))

# -- admin: users, emergency stop, system panel, audit log ------------------------------------------
# (own imports here, so this block stays one piece of the file)

from app.hot.cache_admin import CLEARABLE  # noqa: E402
from app.models.user import ROLES  # noqa: E402
from app.validation import Choice, job_id  # noqa: E402
from pages._admin_audit import AUDIT_TABLE as ADMIN_AUDIT_TABLE  # noqa: E402
from pages._admin_controls import CONTROLS_MSG as ADMIN_CONTROLS_MSG  # noqa: E402
from pages._admin_system import SYS_MSG as ADMIN_SYS_MSG  # noqa: E402

EMAIL_MAX = 254
ROLE_MAX = 16  # the role's text; the domain (app.auth.users) says which roles exist
STOP_REASON_MAX = 500  # as app.hot.system keeps it


def _count(label: str) -> Field:
    """A single button's ``n_clicks`` (or a dialog's ``submit_n_clicks``): a count, None before the first."""
    return Integer(label, minimum=0, optional=True)


def _role_choices(value, field):
    """The role dropdowns of the users table (one per row): a list of role texts (None when cleared)."""
    items = listing(value, field, max_items=10_000)
    return [text(v, f"{field}[{k}]", max_len=ROLE_MAX, optional=True) for k, v in enumerate(items)]


def _user_filters(**fields: Field) -> dict:
    """``fields`` followed by the users table's search text and role filter (every users callback re-renders it)."""
    return {**fields, "text": Text("Search", max_len=EMAIL_MAX, optional=True),
            "role_filter": Choice("Role filter", ROLES, optional=True)}


ADMIN_USERS_FILTER = PageSchema(ADMIN_USERS_MSG, **_user_filters())
ADMIN_USER_CREATE = PageSchema(ADMIN_USERS_MSG, **_user_filters(
    clicks=_count("Create user"), email=Text("E-mail", max_len=EMAIL_MAX, optional=True),
    role=Text("Role", max_len=ROLE_MAX, optional=True)))
ADMIN_SET_ROLE = PageSchema(ADMIN_USERS_MSG, **_user_filters(
    clicks=Clicks("Set role buttons"), roles=Field("Roles", _role_choices, {})))
ADMIN_RESET = PageSchema(ADMIN_USERS_MSG, **_user_filters(clicks=Clicks("Reset password buttons")))
ADMIN_ASK_DELETE = PageSchema(ADMIN_USERS_MSG, clicks=Clicks("Delete buttons"))
ADMIN_CONFIRM_DELETE = PageSchema(ADMIN_USERS_MSG, **_user_filters(
    clicks=_count("Delete confirmation"), user=RecordId("User id", optional=True)))

ADMIN_ASK_STOP = PageSchema(ADMIN_CONTROLS_MSG, clicks=_count("Emergency stop"))
ADMIN_ASK_RESUME = PageSchema(ADMIN_CONTROLS_MSG, clicks=_count("Resume"))
ADMIN_STOP = PageSchema(ADMIN_CONTROLS_MSG, clicks=_count("Stop confirmation"),
                        reason=Text("Reason", max_len=STOP_REASON_MAX, optional=True))
ADMIN_RESUME = PageSchema(ADMIN_CONTROLS_MSG, clicks=_count("Resume confirmation"))

ADMIN_FAILED_JOB = PageSchema(ADMIN_SYS_MSG, requeue=Clicks("Requeue buttons"), drop=Clicks("Delete buttons"))
ADMIN_ASK_CLEAR = PageSchema(ADMIN_SYS_MSG, clicks=_count("Clear cache"), area=Choice("Cache area", CLEARABLE))
ADMIN_CLEAR_CACHE = PageSchema(ADMIN_SYS_MSG, clicks=_count("Clear cache confirmation"),
                               area=Choice("Cache area", CLEARABLE, optional=True))

ADMIN_AUDIT = PageSchema(ADMIN_AUDIT_TABLE, action=Text("Action", max_len=60, optional=True),
                         text=Text("Actor or target", max_len=EMAIL_MAX, optional=True), refresh=Ignored("refresh"))


def failed_job_target(trigger, types) -> tuple[str, str, str]:
    """``(button type, queue, job id)`` of the requeue/delete button that fired (index ``"queue|job id"``)."""
    try:
        kind, index = triggered(trigger, "Failed job", types)
        queue, sep, job = text(index, "Failed job", max_len=160).partition("|")
        if not sep:
            raise InvalidInput("Failed job", f"Failed job {index[:40]!r} is not a job of this page.")
        return kind, text(queue, "Queue", max_len=40), job_id(job, "Job id", optional=False)
    except InvalidInput as exc:
        raise _shown_in(ADMIN_SYS_MSG, exc) from None


def user_target(trigger, types) -> int:
    """The user id of the activate/deactivate button that fired."""
    try:
        _, index = triggered(trigger, "User", types)
        return record_id(index, "User id")
    except InvalidInput as exc:
        raise _shown_in(ADMIN_USERS_MSG, exc) from None


def model_target(trigger, types) -> list[str]:
    """``[symbol, timeframe, version]`` (promote) or ``[symbol, timeframe]`` (roll back) of the button that fired."""
    try:
        kind, index = triggered(trigger, "Model", types)
        key = text(index, "Model", max_len=60)
        promote = kind == types[0]
        if not MODEL_KEY.fullmatch(key) or (key.count("|") == 2) != promote:
            raise InvalidInput("Model", f"Model {key[:40]!r} is not a model of this page.")
        parts = key.split("|")
        if promote:
            integer(parts[2], "Model version", minimum=1)
        return parts
    except InvalidInput as exc:
        raise _shown_in(ADMIN_MODELS_MSG, exc) from None



# -- admin: markets (watch-list) ------------------------------------------------------------------

from pages._admin_markets import HISTORY as MARKET_HISTORY  # noqa: E402
from pages._admin_markets import MK_MSG as ADMIN_MARKETS_MSG  # noqa: E402
from pages._admin_markets import MK_PROGRESS as ADMIN_MARKET_PROGRESS  # noqa: E402

MARKET_KEY_MAX = 80  # "exchange|BASE/QUOTE"


def _market_key(value, field, *, optional: bool = True) -> tuple[str, str] | None:
    """``(exchange, symbol)`` from a row's ``"exchange|symbol"`` key (the watch-list says whether it exists)."""
    key = text(value, field, max_len=MARKET_KEY_MAX, optional=optional)
    if key is None:
        return None
    exchange, sep, symbol = key.partition("|")
    if not sep or not exchange or not symbol:
        raise InvalidInput(field, f"{field} {key[:40]!r} is not a market of this page.")
    return exchange, symbol


ADMIN_MARKETS_SHOW = PageSchema(ADMIN_MARKETS_MSG, shown=Ignored("table"))
ADMIN_MARKET_ADD = PageSchema(ADMIN_MARKETS_MSG, clicks=_count("Add market"),
                              exchange=Text("Exchange", max_len=16, optional=True),
                              symbol=Text("Symbol", max_len=SYMBOL_MAX, optional=True),
                              timeframes=Field("Timeframes", _texts, {"max_items": 10, "max_len": 8}))
ADMIN_MARKET_POLL = PageSchema(ADMIN_MARKET_PROGRESS, tick=Ignored("poll"), job=JobId("Backfill job"))
ADMIN_MARKET_ASK_REMOVE = PageSchema(ADMIN_MARKETS_MSG, clicks=Clicks("Remove buttons"),
                                     history=Choice("History", MARKET_HISTORY, optional=True))
ADMIN_MARKET_REMOVE = PageSchema(ADMIN_MARKETS_MSG, clicks=_count("Remove confirmation"),
                                 market=Field("Market", _market_key, {}),
                                 history=Choice("History", MARKET_HISTORY, optional=True))


def market_target(trigger, types) -> tuple[str, str]:
    """``(exchange, symbol)`` of the remove button that fired."""
    try:
        _, index = triggered(trigger, "Market", types)
        return _market_key(index, "Market", optional=False)
    except InvalidInput as exc:
        raise _shown_in(ADMIN_MARKETS_MSG, exc) from None


# -- alerts ---------------------------------------------------------------------------------------

def _edited_rule(value, field) -> dict | None:
    """The rule being edited as the page stored it: ``{"id": n, "kind": .., "params": {..}}`` (None: a new rule)."""
    if value is None:
        return None
    stored = mapping(value, field)
    return {"id": record_id(stored.get("id"), f"{field} id", optional=True),
            "kind": text(stored.get("kind"), f"{field} condition", max_len=40, optional=True),
            "params": mapping(stored.get("params"), f"{field} parameters")}


def _rule_params(value, field) -> dict:
    """The condition's parameter fields, sent as the pair ``(values, ids)``: ``{name: value}``; each id must
    be one of the page's own."""
    values, ids = value
    values = listing(values, field, max_items=20)
    ids = listing(ids, f"{field} ids", max_items=20)
    if len(values) != len(ids):
        raise InvalidInput(field, f"{field}: values and fields do not match.")
    params = {}
    for k, (pid, raw) in enumerate(zip(ids, values)):
        _, name = triggered(pid, f"{field} {k + 1}", (AL_PARAM,))
        name = text(name, f"{field} {k + 1} name", max_len=40)
        params[name] = _form_value(raw, f"Parameter {name}")
    return params


_RULE_FORM = dict(
    name=Text("Name", optional=True), symbol=_symbol("Symbol"), timeframe=_timeframe(),
    kind=Text("Condition", max_len=40, optional=True), params=Field("Condition parameters", _rule_params, {}),
    channels=Field("Channels", _texts, {"max_items": 10, "max_len": 20}),
    frequency=Text("Frequency", max_len=40, optional=True), cooldown=Integer("Cooldown (s)", optional=True),
    quiet_start=Text("Quiet from", max_len=10, optional=True), quiet_end=Text("Quiet until", max_len=10, optional=True),
    expires=Text("Expires", max_len=40, optional=True))

AL_KIND = PageSchema(AL_FORM_MSG, kind=Text("Condition", max_len=40, optional=True),
                     editing=Field("Edited rule", _edited_rule, {}))
AL_SAVE = PageSchema(AL_FORM_MSG, save=Ignored("save"), **_RULE_FORM, editing=Field("Edited rule", _edited_rule, {}),
                     version=_version())
AL_PREVIEW = PageSchema(AL_FORM_MSG, preview=Ignored("preview"), **_RULE_FORM,
                        bars=Integer("Preview bars", minimum=20, maximum=400, optional=True))
AL_RULE_PICK = PageSchema(AL_RULES_MSG, edit=Ignored("edit"), new=Ignored("new"), rule=Selection("Rule"))
AL_RULE_ACTION = PageSchema(AL_RULES_MSG, pause=Ignored("pause"), delete=Ignored("delete"), rule=Selection("Rule"),
                            version=_version())
AL_EVENTS = PageSchema(version=Ignored("version"), tick=Ignored("refresh"), seen=Ignored("seen"),
                       search=Text("Search", optional=True), status=Text("Delivery status", max_len=20, optional=True),
                       read=Ignored("mark read"))
AL_SETTINGS = PageSchema(AL_SETTINGS_MSG, save=Ignored("save"), timezone=Text("Time zone", max_len=64, optional=True),
                         quiet_start=Text("Quiet from", max_len=10, optional=True),
                         quiet_end=Text("Quiet until", max_len=10, optional=True),
                         chat=Text("Telegram chat id", max_len=40, optional=True),
                         email=Text("E-mail", max_len=254, optional=True),
                         webhook=Text("Webhook URL", max_len=2_000, optional=True),
                         format=Text("Format", max_len=20, optional=True),
                         secret=Text("Webhook secret", max_len=256, optional=True), paused=Boolean("Pause my alerts"))
AL_PAUSE_ALL = PageSchema(AL_SETTINGS_MSG, paused=Boolean("Pause my alerts"))
AL_TEST_SEND = PageSchema(AL_SETTINGS_MSG, clicks=Clicks("Test buttons"))
AL_BELL = PageSchema(tick=Ignored("refresh"), seen=Integer("Last alert seen", minimum=0, optional=True))
TEST_CHANNELS = ("telegram", "email", "webhook")


def test_channel(trigger) -> str:
    """The channel of the test button that fired."""
    try:
        _, channel = triggered(trigger, "Channel", (AL_TEST,))
        return choice(channel, "Channel", TEST_CHANNELS)
    except InvalidInput as exc:
        raise _shown_in(AL_SETTINGS_MSG, exc) from None


# -- portfolio ------------------------------------------------------------------------------------

def _method() -> Field:
    return Choice("Cost method", ("fifo", "average"), optional=True)


def _portfolio() -> Field:
    return Text("Portfolio", max_len=40, optional=True)


UPLOAD_MAX = 1 << 30  # the request body limit (MAX_REQUEST_BYTES, 413 above it) is what bounds an upload

PF_REFRESH = PageSchema(tick=Ignored("refresh"), version=Ignored("version"), method=_method(),
                        benchmark=Boolean("Benchmark"), portfolio=_portfolio())
PF_TX_PICK = PageSchema(PF_TX_MSG, transaction=Selection("Transaction", row=True))
PF_TX_WRITE = PageSchema(PF_TX_MSG, add=Ignored("add"), update=Ignored("update"), delete=Ignored("delete"),
                         kind=Text("Kind", max_len=20, optional=True), asset=_symbol("Asset"),
                         quantity=FormValue("Quantity"), price=FormValue("Price"), fee=FormValue("Fee"),
                         time=Text("Time (UTC)", max_len=40, optional=True), note=Text("Note", optional=True),
                         transaction=Selection("Transaction"), version=_version(), portfolio=_portfolio())
PF_IMPORT = PageSchema(PF_IMPORT_MSG, contents=Text("Upload", max_len=UPLOAD_MAX, optional=True),
                       filename=Text("File name", max_len=255, optional=True), partial=Boolean("Partial import"),
                       version=_version(), portfolio=_portfolio())
PF_EXPORT = PageSchema(transactions=Ignored("export"), positions=Ignored("export"), method=_method(),
                       portfolio=_portfolio())
PF_PAPER_START = PageSchema(PF_PAPER_MSG, add=Ignored("start"), symbol=_symbol("Symbol"), timeframe=_timeframe(),
                            strategy=Text("Strategy", max_len=60, optional=True),
                            params=Text("Parameters", optional=True), cash=FormValue("Virtual cash"),
                            stop=FormValue("Stop-loss (%)"), start=Text("Start (UTC)", max_len=40, optional=True),
                            version=_version())
PF_PAPER_TOGGLE = PageSchema(PF_PAPER_MSG, toggle=Ignored("toggle"), strategy=Selection("Paper strategy"),
                             version=_version())
PF_FILLS = PageSchema(PF_PAPER_MSG, strategy=Selection("Paper strategy"), table=Ignored("table"))
PF_RECONCILE = PageSchema(PF_RECON, reconcile=Ignored("reconcile"), strategy=Selection("Paper strategy"),
                          since=Text("Span from", max_len=40, optional=True),
                          until=Text("Span to", max_len=40, optional=True))
PF_ORDER = PageSchema(PF_ORDER_MSG, place=Ignored("place"), symbol=_symbol("Symbol"), timeframe=_timeframe("Bars"),
                      side=Text("Side", max_len=10, optional=True), type=Text("Type", max_len=10, optional=True),
                      quantity=FormValue("Quantity"), price=FormValue("Limit / stop price"),
                      tif=Text("Time in force", max_len=10, optional=True), version=_version())
PF_ORDER_CANCEL = PageSchema(PF_ORDER_MSG, cancel=Ignored("cancel"), order=Selection("Paper order"),
                             version=_version())
