"""What each callback accepts from the browser: one schema per form or callback (``app.validation``).

A callback calls its schema on its first line; a value of the wrong type raises ``InvalidInput``,
and ``pages._input_errors.show_invalid_input`` (the Dash app's ``on_error``) answers with the
field's message in the component the schema names (``show_in``; the shell's message bar by
default) instead of a 500.
"""
from __future__ import annotations

import re

from app.validation import (Ignored, Clicks, Field, InvalidInput, Integer, JobId, Listing, RecordId, RecordIds, Schema,
                            Text, integer, listing, mapping, record_id, record_ids, text, triggered)
from pages.admin import MODELS_MSG as ADMIN_MODELS_MSG
from pages.admin import PING_OUT as ADMIN_PING_OUT
from pages.admin import TRAIN_OUT as ADMIN_TRAIN_OUT
from pages.admin import USERS_MSG as ADMIN_USERS_MSG
from pages.backtests import FORM_MSG as BT_FORM_MSG
from pages.backtests import PARAM as BT_PARAM

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


# -- market and signals --------------------------------------------------------------------------

MARKET_CHART = PageSchema(symbol=_symbol("Symbol"), timeframe=_timeframe(), tick=Ignored("refresh"))
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

