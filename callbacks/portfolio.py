"""Portfolio page callbacks: thin shells over app.portfolio and app.figures.portfolio.

Every read and write passes ``current_user.id`` (a user sees and changes only their own rows) and
every write re-checks the role on the server (``require_writer``: viewers read only). Bad input gets
a message naming the field (or the CSV line) and nothing is written.
"""
from __future__ import annotations

import base64
import csv
import io
import math
from datetime import datetime, timezone

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update
from flask import current_app

import app.hot as hot
from app.auth.roles import require_writer
from app.auth.roles import signed_in_user_id as _user_id
from app.backtest.config import BacktestConfig
from app.extensions import db
from app.figures import portfolio as figures
from app.market import query
from app.mlops.service import registry
from app.portfolio import overview, paper, stepper, store
from app.portfolio.transactions import (TransactionError, TransactionFileError, make_transaction, parse_csv,
                                        parse_time, to_csv)
from callbacks import inputs
from pages.portfolio import PORTFOLIO, PORTFOLIO_LIST, RECON_FROM, RECON_TO
from pages.portfolio import (OR_ACCOUNT, OR_CANCEL, OR_MSG, OR_PLACE, OR_PRICE, OR_QTY, OR_SIDE, OR_SYMBOL,
                             OR_TABLE, OR_TF, OR_TIF, OR_TYPE)
from pages.portfolio import (ALLOCATION, BENCH, DOWNLOAD, EQUITY, EXPORT_POS, EXPORT_TX, HISTORY_MSG, HOLDINGS,
                             IMPORT, IMPORT_MSG, IMPORT_PARTIAL, METHOD, PS_ADD, PS_CASH, PS_FILLS, PS_MSG,
                             PS_PARAMS, PS_RECONCILE, PS_START, PS_STOP, PS_STRATEGY, PS_SYMBOL, PS_TABLE, PS_TF,
                             PS_TOGGLE, RECON, RECON_COLUMNS, REFRESH, SUMMARY, TX_ADD, TX_ASSET, TX_DELETE, TX_FEE,
                             TX_KIND, TX_MSG, TX_NOTE, TX_PRICE, TX_QTY, TX_TABLE, TX_TIME, TX_UPDATE, TX_VERSION)
from pages._ui import DARK_TABLE


def _settings():
    return current_app.config["CW_SETTINGS"]


def _catalog():
    return query.catalog(db.session, hot.catalog_cache(_settings()))


def _prices(cat) -> dict[str, float]:
    """Live prices from the hot ticker cache, else the last stored close (``query.tickers``)."""
    return {t.symbol: t.price for t in query.tickers(db.session.connection(), cat, hot.live_cache(_settings()))}


def _error(text: str, id_: str):
    return dbc.Alert(text, color="danger", id=id_, className="py-1 small")


@callback(Output(SUMMARY, "children"), Output(HOLDINGS, "data"), Output(ALLOCATION, "figure"),
          Output(EQUITY, "figure"), Output(HISTORY_MSG, "children"), Output(TX_TABLE, "data"),
          Output(PS_TABLE, "data"), Output(PORTFOLIO_LIST, "children"),
          Input(REFRESH, "n_intervals"), Input(TX_VERSION, "data"), Input(METHOD, "value"), Input(BENCH, "value"),
          Input(PORTFOLIO, "value"))
def refresh(_n, _version, method, with_benchmark, portfolio):
    _n, _version, method, with_benchmark, portfolio = inputs.PF_REFRESH(_n, _version, method, with_benchmark, portfolio)
    user_id = _user_id()
    cat = _catalog()
    try:
        name = store.portfolio_name(portfolio)
    except TransactionError:
        name = store.DEFAULT_PORTFOLIO
    view = overview.holdings(db.session, user_id, _prices(cat), method or "fifo", name)
    names = store.portfolios(db.session, user_id)
    note = ""
    try:
        equity, bench = overview.history(db.session, view["transactions"], cat.exchange, cat.timeframes,
                                         with_benchmark)
    except ValueError as exc:
        equity, bench, note = overview.history(db.session, [], {}, {})[0], None, f"Equity history: {exc}"
    papers = overview.paper_rows(db.session, user_id)
    db.session.commit()   # end the read transaction before building figures
    cards = [dbc.Col(dbc.Card(dbc.CardBody([html.Small(label, className="text-muted d-block"),
                                            html.Strong(value, id=f"pf-card-{label.lower().replace(' ', '-')
                                                                  .replace('&', '')}")]),
                              className="text-center"), md=2) for label, value in figures.summary_items(view["summary"])]
    if view["summary"]["unpriced"]:
        note = (note + " " if note else "") + f"No live price for {', '.join(view['summary']['unpriced'])} (valued at cost)."
    return (cards, figures.holding_rows(view["positions"]), figures.allocation_figure(view["allocation"]),
            figures.equity_figure(equity, bench), note, figures.transaction_rows(view["transactions"]),
            figures.paper_table_rows(papers), [html.Option(value=n) for n in names])


@callback(Output(TX_KIND, "value"), Output(TX_ASSET, "value"), Output(TX_QTY, "value"), Output(TX_PRICE, "value"),
          Output(TX_FEE, "value"), Output(TX_TIME, "value"), Output(TX_NOTE, "value"),
          Input(TX_TABLE, "selected_rows"), State(TX_TABLE, "data"), prevent_initial_call=True)
def load_selected(selected, data):
    r = inputs.PF_TX_PICK((selected, data))
    if r is None:
        return (no_update,) * 7
    return tuple(_text(r.get(key)) for key in ("kind", "asset", "quantity", "price", "fee", "time", "note"))


def _text(value) -> str:
    """A table cell as a form field's text (a number as the table shows it, anything else as it is written)."""
    return "" if value is None else value if isinstance(value, str) else str(value)


@callback(Output(TX_MSG, "children"), Output(TX_VERSION, "data"),
          Input(TX_ADD, "n_clicks"), Input(TX_UPDATE, "n_clicks"), Input(TX_DELETE, "n_clicks"),
          State(TX_KIND, "value"), State(TX_ASSET, "value"), State(TX_QTY, "value"), State(TX_PRICE, "value"),
          State(TX_FEE, "value"), State(TX_TIME, "value"), State(TX_NOTE, "value"),
          State(TX_TABLE, "selected_rows"), State(TX_TABLE, "data"), State(TX_VERSION, "data"), State(PORTFOLIO, "value"),
          prevent_initial_call=True)
def write_transaction(_add, _update, _delete, kind, asset, qty, price, fee, time, note, selected, data, version,
                      portfolio):
    require_writer()    # viewers see the portfolio, they do not change it
    (_add, _update, _delete, kind, asset, qty, price, fee, time, note, selected_id, version,
     portfolio) = inputs.PF_TX_WRITE(_add, _update, _delete, kind, asset, qty, price, fee, time, note, (selected, data),
                                     version, portfolio)
    user_id = _user_id()
    action = ctx.triggered_id
    if action in (TX_UPDATE, TX_DELETE) and selected_id is None:
        return _error("Select a transaction in the table first.", "pf-tx-error"), no_update
    try:
        if action == TX_DELETE:
            store.delete_transaction(db.session, user_id, selected_id)
            done = f"Deleted transaction #{selected_id}."
        else:
            tx = make_transaction(time=time, kind=kind, asset=asset, quantity=qty, price=price, fee=fee, note=note,
                                  known_assets=_catalog().symbols)
            if action == TX_UPDATE:
                store.update_transaction(db.session, user_id, selected_id, tx)
                done = f"Updated transaction #{selected_id}."
            else:
                name = store.portfolio_name(portfolio)
                store.add_transactions(db.session, user_id, [tx], portfolio=name)
                done = f"Added {tx.kind} of {tx.quantity:g} {tx.asset} to {name}."
        db.session.commit()
    except (TransactionError, LookupError) as exc:
        db.session.rollback()
        return _error(f"Not saved: {exc}", "pf-tx-error"), no_update
    return dbc.Alert(done, color="success", duration=4000, className="py-1 small"), (version or 0) + 1


@callback(Output(IMPORT_MSG, "children"), Output(TX_VERSION, "data", allow_duplicate=True),
          Input(IMPORT, "contents"), State(IMPORT, "filename"), State(IMPORT_PARTIAL, "value"),
          State(TX_VERSION, "data"), State(PORTFOLIO, "value"), prevent_initial_call=True)
def import_csv(contents, filename, partial, version, portfolio):
    require_writer()
    contents, filename, partial, version, portfolio = inputs.PF_IMPORT(contents, filename, partial, version, portfolio)
    user_id = _user_id()
    if not contents:
        return no_update, no_update
    try:
        raw = base64.b64decode(contents.split(",", 1)[1])
    except (ValueError, IndexError):
        return _error(f"{filename}: not a readable upload", "pf-import-error"), no_update
    try:
        name = store.portfolio_name(portfolio)
        rows, errors = parse_csv(raw, known_assets=_catalog().symbols,
                                 existing=store.transactions(db.session, user_id, name), partial=partial)
        store.add_transactions(db.session, user_id, rows, portfolio=name)
        db.session.commit()
    except TransactionFileError as exc:
        db.session.rollback()
        return _error_list(f"{filename}: nothing imported", exc.errors), no_update
    except TransactionError as exc:
        db.session.rollback()
        return _error(f"{filename}: nothing imported: {exc}", "pf-import-error"), no_update
    msg = [html.Div(f"{filename}: imported {len(rows)} transaction(s).")]
    if errors:
        msg.append(_error_list(f"{len(errors)} line(s) skipped", errors))
    return html.Div(msg, className="small text-success"), (version or 0) + 1


def _error_list(title, errors):
    return dbc.Alert([html.Strong(title), html.Ul([html.Li(f"line {n}: {m}") for n, m in errors[:50]],
                                                   className="mb-0")], color="danger", id="pf-import-error",
                     className="py-1 small")


@callback(Output(DOWNLOAD, "data"), Input(EXPORT_TX, "n_clicks"), Input(EXPORT_POS, "n_clicks"),
          State(METHOD, "value"), State(PORTFOLIO, "value"), prevent_initial_call=True)
def export(_tx, _pos, method, portfolio):
    _tx, _pos, method, portfolio = inputs.PF_EXPORT(_tx, _pos, method, portfolio)
    user_id = _user_id()
    try:
        name = store.portfolio_name(portfolio)
    except TransactionError:
        return no_update
    if ctx.triggered_id == EXPORT_TX:
        text = to_csv(store.transactions(db.session, user_id, name))
        db.session.commit()
        return dcc.send_string(text, "transactions.csv")
    view = overview.holdings(db.session, user_id, _prices(_catalog()), method or "fifo", name)
    db.session.commit()
    out = io.StringIO()
    columns = ["asset", "quantity", "avg_cost", "cost", "price", "market_value", "unrealised", "unrealised_pct",
               "realised", "fees"]
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(view["positions"])
    return dcc.send_string(out.getvalue(), "positions.csv")


def parse_params(text: str | None) -> dict:
    """``"fast=5, slow=20, ema=true"`` -> ``{"fast": 5, "slow": 20, "ema": True}``."""
    out = {}
    for part in (text or "").replace(";", ",").split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValueError(f"params: expected name=value, got {part.strip()!r}")
        name, value = (s.strip() for s in part.split("=", 1))
        low = value.lower()
        if low in ("true", "false"):
            out[name] = low == "true"
            continue
        try:
            number = float(value)
        except ValueError:
            out[name] = value
            continue
        out[name] = int(number) if number.is_integer() and "." not in value else number
    return out


def _number(label: str, value, optional: bool = False) -> float | None:
    if value in (None, "") and optional:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{label}: must be a number, got {value!r}") from None
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{label}: must be positive, got {value!r}")
    return number


@callback(Output(PS_MSG, "children"), Output(TX_VERSION, "data", allow_duplicate=True),
          Input(PS_ADD, "n_clicks"), State(PS_SYMBOL, "value"), State(PS_TF, "value"), State(PS_STRATEGY, "value"),
          State(PS_PARAMS, "value"), State(PS_CASH, "value"), State(PS_STOP, "value"), State(PS_START, "value"),
          State(TX_VERSION, "data"), prevent_initial_call=True)
def start_paper(_n, symbol, timeframe, strategy, params, cash, stop, start, version):
    require_writer()
    _n, symbol, timeframe, strategy, params, cash, stop, start, version = inputs.PF_PAPER_START(
        _n, symbol, timeframe, strategy, params, cash, stop, start, version)
    user_id = _user_id()
    cat = _catalog()
    try:
        if symbol not in cat.symbols:
            raise ValueError(f"symbol: unknown {symbol!r}; stored: {', '.join(cat.symbols)}")
        if timeframe not in cat.timeframes.get(symbol, []):
            raise ValueError(f"timeframe: no stored {timeframe!r} candles for {symbol}")
        initial = _number("virtual cash", cash)
        stop_pct = _number("stop-loss", stop, optional=True)
        if stop_pct is not None and stop_pct >= 100:
            raise ValueError(f"stop-loss: must be below 100 %, got {stop}")
        try:
            config = BacktestConfig(initial_cash=initial, stop_loss=None if stop_pct is None else stop_pct / 100)
        except ValueError as exc:
            raise ValueError(f"virtual cash: {exc}") from None
        when = datetime.now(timezone.utc) if not (start or "").strip() else parse_time(start, "start")
        spec = paper.make_spec(exchange=cat.exchange[symbol], symbol=symbol, timeframe=timeframe, strategy=strategy,
                               params=parse_params(params), config=config, start_at=when)
        if strategy in ("score_threshold", "lstm"):
            from app.mlops.predict import champions

            if strategy == "lstm" and not champions(registry(_settings()), symbol, [timeframe]):
                raise ValueError(f"strategy: lstm needs a champion model for {symbol} {timeframe}")
        row = store.create_strategy(db.session, user_id, spec)
        db.session.commit()
    except (ValueError, TransactionError) as exc:
        db.session.rollback()
        return _error(f"Not started: {exc}", "pf-ps-error"), no_update
    return (dbc.Alert(f"Paper strategy #{row.id} started: {strategy} on {symbol} {timeframe}; it trades on each "
                      "closed bar.", color="success", duration=6000, className="py-1 small"), (version or 0) + 1)


@callback(Output(PS_MSG, "children", allow_duplicate=True), Output(TX_VERSION, "data", allow_duplicate=True),
          Input(PS_TOGGLE, "n_clicks"), State(PS_TABLE, "selected_rows"), State(PS_TABLE, "data"),
          State(TX_VERSION, "data"), prevent_initial_call=True)
def toggle_paper(_n, selected, data, version):
    require_writer()
    _n, sid, version = inputs.PF_PAPER_TOGGLE(_n, (selected, data), version)
    user_id = _user_id()
    if sid is None:
        return _error("Select a paper strategy first.", "pf-ps-error"), no_update
    try:
        row = store.owned_strategy(db.session, user_id, sid)
        new = "stopped" if row.status == "active" else "active"
        store.set_status(db.session, user_id, sid, new)
        db.session.commit()
    except LookupError as exc:
        db.session.rollback()
        return _error(str(exc), "pf-ps-error"), no_update
    return dbc.Alert(f"Paper strategy #{sid} {new}.", color="info", duration=4000, className="py-1 small"), \
        (version or 0) + 1


@callback(Output(PS_FILLS, "data"), Input(PS_TABLE, "selected_rows"), Input(PS_TABLE, "data"),
          State(PS_TABLE, "data"))
def show_fills(selected, _data, data):
    sid, _data = inputs.PF_FILLS((selected, data), _data)
    if sid is None:
        return []
    try:
        store.owned_strategy(db.session, _user_id(), sid)
        fills = store.stored_fills(db.session, sid)
    except LookupError:
        fills = []
    db.session.commit()
    return figures.fill_rows(fills)


@callback(Output(RECON, "children"), Input(PS_RECONCILE, "n_clicks"), State(PS_TABLE, "selected_rows"),
          State(PS_TABLE, "data"), State(RECON_FROM, "value"), State(RECON_TO, "value"), prevent_initial_call=True)
def reconcile(_n, selected, data, since, until):
    from dash import dash_table

    _n, sid, since, until = inputs.PF_RECONCILE(_n, (selected, data), since, until)
    if sid is None:
        return _error("Select a paper strategy first.", "pf-recon-error")
    try:
        since_t = parse_time(since, "span from") if (since or "").strip() else None
        until_t = parse_time(until, "span to") if (until or "").strip() else None
        if since_t and until_t and since_t > until_t:
            raise ValueError("span from: must not be after span to")
        row = store.owned_strategy(db.session, _user_id(), sid)
        report = stepper.reconcile_strategy(db.session, row, stepper.strategy_series(registry(_settings())),
                                            since=since_t, until=until_t)
    except (LookupError, ValueError) as exc:
        db.session.rollback()
        return _error(str(exc), "pf-recon-error")
    db.session.commit()
    rate = report["match_rate"]
    head = html.Div([html.Strong(f"Match rate {rate:.1f} %", id="pf-recon-rate"),
                     html.Span(f" — {report['matched']} of {report['total']} fills identical to a backtest of the "
                               f"same bars with the same configuration"
                               + (f" (through {report['through'][:16]} UTC)" if report.get("through") else ""),
                               className="small text-muted")])
    return html.Div([head, dash_table.DataTable(id="pf-recon-table", columns=RECON_COLUMNS,
                                                data=figures.reconciliation_rows(report), page_size=10,
                                                **DARK_TABLE)])


@callback(Output(OR_TABLE, "data"), Output(OR_ACCOUNT, "children"),
          Input(REFRESH, "n_intervals"), Input(TX_VERSION, "data"))
def refresh_orders(_n, _version):
    from app.portfolio.orders import account

    user_id = _user_id()
    rows = store.orders(db.session, user_id)
    acct = account([o for o in rows if o.status == "filled"])
    prices = _prices(_catalog())
    db.session.commit()
    held = ", ".join(f"{q:g} {s}" for s, q in sorted(acct.positions.items())) or "no positions"
    summary = f"paper cash {figures.money(acct.cash)} · {held} · value {figures.money(acct.value(prices))}"
    return figures.order_rows(rows), summary


@callback(Output(OR_MSG, "children"), Output(TX_VERSION, "data", allow_duplicate=True),
          Input(OR_PLACE, "n_clicks"), State(OR_SYMBOL, "value"), State(OR_TF, "value"), State(OR_SIDE, "value"),
          State(OR_TYPE, "value"), State(OR_QTY, "value"), State(OR_PRICE, "value"), State(OR_TIF, "value"),
          State(TX_VERSION, "data"), prevent_initial_call=True)
def place_order(_n, symbol, timeframe, side, type_, qty, price, tif, version):
    from app.portfolio.orders import Order

    require_writer()
    _n, symbol, timeframe, side, type_, qty, price, tif, version = inputs.PF_ORDER(_n, symbol, timeframe, side, type_,
                                                                                   qty, price, tif, version)
    user_id = _user_id()
    cat = _catalog()
    try:
        if symbol not in cat.symbols:
            raise ValueError(f"symbol: unknown {symbol!r}; stored: {', '.join(cat.symbols)}")
        if timeframe not in cat.timeframes.get(symbol, []):
            raise ValueError(f"timeframe: no stored {timeframe!r} candles for {symbol}")
        quantity = _number("qty", qty)
        level = None if type_ == "market" and price in (None, "") else _number("price", price)
        order = Order(side, type_, quantity, datetime.now(timezone.utc), level, tif)
        row = store.place_order(db.session, user_id, cat.exchange[symbol], symbol, timeframe, order,
                                BacktestConfig().costs, _prices(cat).get(symbol))
        db.session.commit()
    except ValueError as exc:
        db.session.rollback()
        return _error(f"Not placed: {exc}", "pf-order-error"), no_update
    return (dbc.Alert(f"Paper order #{row.id} placed: {side} {quantity:g} {symbol} {type_} ({tif}); it fills on "
                      "the next closed bars.", color="success", duration=6000, className="py-1 small"),
            (version or 0) + 1)


@callback(Output(OR_MSG, "children", allow_duplicate=True), Output(TX_VERSION, "data", allow_duplicate=True),
          Input(OR_CANCEL, "n_clicks"), State(OR_TABLE, "selected_rows"), State(OR_TABLE, "data"),
          State(TX_VERSION, "data"), prevent_initial_call=True)
def cancel_order(_n, selected, data, version):
    require_writer()
    _n, oid, version = inputs.PF_ORDER_CANCEL(_n, (selected, data), version)
    user_id = _user_id()
    if oid is None:
        return _error("Select an open order first.", "pf-order-error"), no_update
    try:
        store.cancel_order(db.session, user_id, oid)
        db.session.commit()
    except (LookupError, ValueError) as exc:
        db.session.rollback()
        return _error(str(exc), "pf-order-error"), no_update
    return dbc.Alert(f"Paper order #{oid} cancelled.", color="info", duration=4000, className="py-1 small"), \
        (version or 0) + 1
