"""``/api/v1/portfolio``: the token owner's portfolios, transactions, manual paper orders and paper strategies.

Over ``app.portfolio`` and nothing else: holdings from ``overview.holdings``, transactions through
``store.add_transactions`` / ``delete_transaction`` (the whole ledger is checked, nothing written when it
would go short), orders through ``store.place_order`` (checked against the paper account) and
``cancel_order``, paper strategies through ``paper.make_spec`` + ``store.create_strategy`` and
``store.set_status`` (the kill switch). The same checks the Portfolio page makes; a refusal is a 422
naming the field and writes nothing. Reads need ``read``, writes ``trade``; another user's row is a 404.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask_smorest import abort
from sqlalchemy import func, select

import app.hot as hot
from app.api.v1.auth import require, resource_blueprint
from app.api.v1.common import catalog, iso
from app.api.v1.owned import committed, missing, refuse, user_id
from app.api.v1.schemas import (HoldingsQuerySchema, HoldingsSchema, ImportRequestSchema, ImportResultSchema,
                                OrderListSchema, OrderRequestSchema, OrderSchema, PaperRequestSchema,
                                PaperStrategyListSchema, PaperStrategySchema, PortfolioListSchema,
                                TransactionFieldsSchema, TransactionListSchema, TransactionQuerySchema,
                                TransactionRequestSchema, TransactionSchema)
from app.extensions import db
from app.market import query
from app.models.portfolio import PortfolioTransaction
from app.portfolio.transactions import TransactionError, TransactionFileError, make_transaction, with_id

blp = resource_blueprint("portfolio", __name__, "/api/v1/portfolio",
                         "Portfolios, transactions, manual paper orders and paper strategies")
ID = "<int(min=1, max=2147483647):{}>"


_refuse = refuse


def _value_error(exc: ValueError):
    """A domain ``ValueError`` ("field: message") as a 422 naming the field."""
    field, sep, message = str(exc).partition(": ")
    if not sep or " " in field.strip():
        field, message = "request", str(exc)
    _refuse(field.strip().replace(" ", "_"), message)


_missing = missing


def _name(value) -> str:
    from app.portfolio import store

    try:
        return store.portfolio_name(value)
    except TransactionError as exc:
        abort(422, message=str(exc), errors=[{"field": "portfolio", "message": str(exc).partition(": ")[2]}])


def _prices(cat) -> dict[str, float]:
    """Live prices from the hot ticker cache, else the last stored close (as on the Portfolio page)."""
    return {t.symbol: t.price for t in query.tickers(db.session.connection(), cat, hot.live_cache())}


def _series(cat, symbol: str, timeframe: str) -> None:
    if symbol not in cat.symbols:
        _refuse("symbol", f"unknown {symbol!r}; stored: {', '.join(cat.symbols)}")
    if timeframe not in cat.timeframes.get(symbol, []):
        _refuse("timeframe", f"no stored {timeframe!r} candles for {symbol}")


def _transaction(form: dict):
    return make_transaction(time=form["time"], kind=form["kind"], asset=form["asset"], quantity=form["quantity"],
                            price=form["price"], fee=form["fee"], note=form["note"], known_assets=catalog().symbols)


def tx_view(t) -> dict:
    return {"id": t.id, "time": iso(t.time), "kind": t.kind, "asset": t.asset, "quantity": t.quantity,
            "price": t.price, "fee": t.fee, "note": t.note}


def order_view(o) -> dict:
    return {"id": o.id, "exchange": o.exchange, "symbol": o.symbol, "timeframe": o.timeframe, "side": o.side,
            "type": o.type, "qty": o.qty, "price": o.price, "tif": o.tif, "status": o.status,
            "placed_at": iso(o.placed_at), "filled_at": iso(o.filled_at), "fill_price": o.fill_price, "fee": o.fee}


def paper_view(r, fills=None) -> dict:
    out = {"id": r.id, "url": f"/api/v1/portfolio/paper/{r.id}", "exchange": r.exchange, "symbol": r.symbol,
           "timeframe": r.timeframe, "strategy": r.strategy, "params": dict(r.params), "status": r.status,
           "start_at": iso(r.start_at), "processed_through": iso(r.processed_through),
           "initial_cash": float(r.config["initial_cash"]), "equity": r.equity}
    if fills is not None:
        out["fills"] = [f.to_dict() for f in fills]
    return out


# ------------------------------------------------------------------ portfolios and transactions


@blp.get("")
@blp.response(200, PortfolioListSchema)
@require("read")
def portfolios():
    """The owner's portfolio names (the default ``main`` first, always present)."""
    from app.portfolio import store

    return committed(lambda: {"portfolios": store.portfolios(db.session, user_id())})


@blp.get("/holdings/<name>")
@blp.arguments(HoldingsQuerySchema(), location="query")
@blp.response(200, HoldingsSchema)
@require("read")
def holdings(args, name: str):
    """Positions, cash, P&L and allocation of one portfolio, valued at live (else last stored) prices."""
    from app.portfolio import overview

    name = _name(name)
    view = overview.holdings(db.session, user_id(), _prices(catalog()), args["method"], name)
    db.session.commit()
    return {"portfolio": name, "method": args["method"], "summary": view["summary"], "positions": view["positions"],
            "allocation": view["allocation"]}


@blp.get("/transactions")
@blp.arguments(TransactionQuerySchema(), location="query")
@blp.response(200, TransactionListSchema)
@require("read")
def list_transactions(args):
    """The transactions of one portfolio, oldest first."""
    from app.portfolio import store

    name = _name(args["portfolio"])
    return committed(lambda: {"portfolio": name,
                              "transactions": [tx_view(t) for t in store.transactions(db.session, user_id(), name)]})


@blp.post("/transactions")
@blp.arguments(TransactionRequestSchema(), location="json")
@blp.response(201, TransactionSchema)
@require("trade")
def add_transaction(form):
    """Record one transaction; refused (422, nothing written) when a field is bad or the ledger would go short."""
    from app.portfolio import store

    name = _name(form["portfolio"])
    try:
        tx = _transaction(form)
        store.add_transactions(db.session, user_id(), [tx], portfolio=name)
        new_id = db.session.scalar(select(func.max(PortfolioTransaction.id))
                                   .where(PortfolioTransaction.user_id == user_id()))  # the row just flushed
        db.session.commit()
    except TransactionError as exc:
        _refuse(exc.field, str(exc).partition(": ")[2])
    return tx_view(with_id(tx, new_id)), 201


@blp.delete("/transactions/" + ID.format("tx_id"))
@blp.response(204)
@require("trade")
def delete_transaction(tx_id: int):
    """Delete one transaction (refused when the rest of the ledger would go short)."""
    from app.portfolio import store

    try:
        store.delete_transaction(db.session, user_id(), tx_id)
        db.session.commit()
    except LookupError:
        _missing("transaction", tx_id)
    except TransactionError as exc:
        _refuse(exc.field, str(exc).partition(": ")[2])
    return "", 204



@blp.put("/transactions/" + ID.format("tx_id"))
@blp.arguments(TransactionFieldsSchema(), location="json")
@blp.response(200, TransactionSchema)
@require("trade")
def update_transaction(form, tx_id: int):
    """Replace one transaction (it stays in its portfolio); refused when a field is bad or the ledger would go short."""
    from app.portfolio import store

    try:
        tx = _transaction(form)
        store.update_transaction(db.session, user_id(), tx_id, tx)
        db.session.commit()
    except LookupError:
        _missing("transaction", tx_id)
    except TransactionError as exc:
        _refuse(exc.field, str(exc).partition(": ")[2])
    return tx_view(with_id(tx, tx_id))


@blp.post("/transactions/import")
@blp.arguments(ImportRequestSchema(), location="json")
@blp.response(201, ImportResultSchema)
@require("trade")
def import_transactions(form):
    """Import a transactions CSV (the Portfolio page's import: ``parse_csv`` against the stored ledger).

    Without ``partial`` one bad line refuses the whole file (422, every line listed, nothing written);
    with it the good lines are stored and the dropped ones listed in ``skipped``."""
    from app.portfolio import store
    from app.portfolio.transactions import parse_csv

    name = _name(form["portfolio"])
    try:
        rows, errors = parse_csv(form["csv"], known_assets=catalog().symbols,
                                 existing=store.transactions(db.session, user_id(), name), partial=form["partial"])
        store.add_transactions(db.session, user_id(), rows, portfolio=name)
        db.session.commit()
    except TransactionFileError as exc:
        db.session.rollback()
        abort(422, message=f"nothing imported: {exc}",
              errors=[{"field": "json.csv", "message": f"line {n}: {m}"} for n, m in exc.errors[:50]])
    except TransactionError as exc:
        _refuse(exc.field, str(exc).partition(": ")[2])
    return {"portfolio": name, "imported": len(rows),
            "skipped": [{"line": n, "message": m} for n, m in errors]}, 201


# ------------------------------------------------------------------ manual paper orders


@blp.get("/orders")
@blp.response(200, OrderListSchema)
@require("read")
def list_orders():
    """The owner's paper orders, newest first."""
    from app.portfolio import store

    return committed(lambda: {"orders": [order_view(o) for o in store.orders(db.session, user_id())]})


@blp.post("/orders")
@blp.arguments(OrderRequestSchema(), location="json")
@blp.response(201, OrderSchema)
@require("trade")
def place_order(form):
    """Place a paper order; it fills on the next closed bars (checked against the paper account first)."""
    from app.backtest.config import BacktestConfig
    from app.portfolio import store
    from app.portfolio.orders import Order

    cat = catalog()
    _series(cat, form["symbol"], form["timeframe"])
    try:
        order = Order(form["side"], form["type"], float(form["qty"]), datetime.now(timezone.utc), form["price"],
                      form["tif"])
        row = store.place_order(db.session, user_id(), cat.exchange[form["symbol"]], form["symbol"],
                                form["timeframe"], order, BacktestConfig().costs, _prices(cat).get(form["symbol"]))
        out = order_view(row)
        db.session.commit()
    except ValueError as exc:
        _value_error(exc)
    return out, 201, {"Location": "/api/v1/portfolio/orders"}


@blp.post("/orders/" + ID.format("order_id") + "/cancel")
@blp.response(200, OrderSchema)
@require("trade")
def cancel_order(order_id: int):
    """Cancel one open paper order."""
    from app.models.portfolio import PaperOrder
    from app.portfolio import store

    try:
        store.cancel_order(db.session, user_id(), order_id)
        out = order_view(db.session.get(PaperOrder, order_id))
        db.session.commit()
    except LookupError:
        _missing("paper order", order_id)
    except ValueError as exc:
        _value_error(exc)
    return out


# ------------------------------------------------------------------ paper strategies


@blp.get("/paper")
@blp.response(200, PaperStrategyListSchema)
@require("read")
def list_paper():
    """The owner's paper strategies with their state and marked equity."""
    from app.portfolio import store

    return committed(lambda: {"strategies": [paper_view(r) for r in store.strategies(db.session, user_id())]})


@blp.post("/paper")
@blp.arguments(PaperRequestSchema(), location="json")
@blp.response(201, PaperStrategySchema)
@require("trade")
def start_paper(form):
    """Start a paper strategy: it trades every closed bar from ``start`` through the backtest engine's code path."""
    from app.backtest.config import BacktestConfig
    from app.portfolio import paper, store

    cat = catalog()
    symbol, timeframe = form["symbol"], form["timeframe"]
    _series(cat, symbol, timeframe)
    stop = form["stop_loss_pct"]
    try:
        config = BacktestConfig(initial_cash=form["initial_cash"], stop_loss=None if stop is None else stop / 100)
    except ValueError as exc:
        _refuse("initial_cash", str(exc))
    try:
        spec = paper.make_spec(exchange=cat.exchange[symbol], symbol=symbol, timeframe=timeframe,
                               strategy=form["strategy"], params=form["params"], config=config,
                               start_at=form["start"] or datetime.now(timezone.utc))
        if form["strategy"] == "lstm":
            from flask import current_app

            from app.mlops.predict import champions
            from app.mlops.service import registry

            if not champions(registry(current_app.config["CW_SETTINGS"]), symbol, [timeframe]):
                raise ValueError(f"strategy: lstm needs a champion model for {symbol} {timeframe}")
        row = store.create_strategy(db.session, user_id(), spec)
        out = paper_view(row, [])
        db.session.commit()
    except ValueError as exc:
        _value_error(exc)
    return out, 201, {"Location": out["url"]}


@blp.get("/paper/" + ID.format("strategy_id"))
@blp.response(200, PaperStrategySchema)
@require("read")
def get_paper(strategy_id: int):
    """One paper strategy with every fill."""
    from app.portfolio import store

    try:
        row = store.owned_strategy(db.session, user_id(), strategy_id)
    except LookupError:
        _missing("paper strategy", strategy_id)
    out = paper_view(row, store.stored_fills(db.session, strategy_id))
    db.session.commit()
    return out


def _set_status(strategy_id: int, status: str) -> dict:
    from app.portfolio import store

    try:
        store.set_status(db.session, user_id(), strategy_id, status)
        out = paper_view(store.owned_strategy(db.session, user_id(), strategy_id))
        db.session.commit()
    except LookupError:
        _missing("paper strategy", strategy_id)
    return out


@blp.post("/paper/" + ID.format("strategy_id") + "/stop")
@blp.response(200, PaperStrategySchema)
@require("trade")
def stop_paper(strategy_id: int):
    """The kill switch: the strategy stops trading (idempotent)."""
    return _set_status(strategy_id, "stopped")


@blp.post("/paper/" + ID.format("strategy_id") + "/start")
@blp.response(200, PaperStrategySchema)
@require("trade")
def resume_paper(strategy_id: int):
    """Undo the kill switch: the strategy trades again from the next closed bar (idempotent)."""
    return _set_status(strategy_id, "active")
