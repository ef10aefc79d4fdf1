"""Helpers for the interval-tick tests: a series of our own on the shared Dash app, and the browser's POST."""
import json

import pandas as pd

from tests.fakes.candles import make_candles


def dash_call(client, output: str, inputs: list[dict], state: list[dict] | None = None, changed=None):
    parts = [p.rsplit(".", 1) for p in output.strip(".").split("...")]
    outs = [{"id": c, "property": p} for c, p in parts]
    payload = {"output": output, "outputs": outs if len(outs) > 1 else outs[0], "inputs": inputs,
               "state": state or [], "changedPropIds": changed or [f"{inputs[-1]['id']}.{inputs[-1]['property']}"]}
    return client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json",
                       headers={"Origin": "http://localhost"})


def seed_series(server, symbol: str, timeframe: str = "1m", n: int = 320, exchange: str = "demo") -> pd.DataFrame:
    """``n`` bars of our own series (a symbol no other test uses), visible in the catalogue at once."""
    import app.hot as hot
    from app.extensions import db
    from app.market import store

    df = make_candles(n, start="2025-01-01T00:00:00Z", seed=len(symbol))
    with server.app_context():
        sid = store.get_or_create_series(db.session.connection(), exchange, symbol, timeframe)
        store.upsert_candles(db.session.connection(), sid, df)
        db.session.commit()
        hot.catalog_cache().invalidate()
    return df


def upsert(server, symbol: str, df: pd.DataFrame, timeframe: str = "1m", exchange: str = "demo") -> None:
    from app.extensions import db
    from app.market import store

    with server.app_context():
        sid = store.find_series(db.session.connection(), exchange, symbol, timeframe)
        store.upsert_candles(db.session.connection(), sid, df)
        db.session.commit()
