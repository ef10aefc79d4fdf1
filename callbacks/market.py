"""Market page callbacks: thin shells over app.market.query and app.market.charts (reads, studies, marks,
layouts) and app.figures.chart (the figures).

Every tick first compares a cheap version with what each chart shows (kept in its ``dcc.Store``): the
last closed bar and the forming bar's signature, the user's marks' digest, the ticker values for the
ticker row. Unchanged: nothing is sent (an empty 204 when no chart changed). A new closed bar or a moved
forming bar: a ``Patch`` with just those bars and the studies' values for the new closed bars. Otherwise
(selection changed, marks changed, scrolled back past the first bar, too far behind) the whole figure:
the shared part is built once per version for every user and kept serialised in hot state
(``app.hot.views``); the user's marks are added on top. Read transactions end before anything is built
or encoded.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import Input, Output, State, callback, clientside_callback, ctx, html, no_update
from dash.exceptions import PreventUpdate
from flask import current_app

import app.hot as hot
from app.analysis import reads
from app.auth.roles import signed_in_user_id
from app.extensions import db
from app.figures.chart import apply_marks, bar_signature, chart_figure, shown_state, tick_update
from app.figures.chart import values as chart_values
from app.market import query
from app.market.charts import layouts, marks, store, studies
from app.marketdata import TIMEFRAMES
from callbacks import inputs, tick_gate
from callbacks.live_chart import chart_patch, tail_bars
from pages._catalog import page_catalog
from pages.market import (BADGE, COUNT, ERROR, INTERVAL, LINK, LINKED, LOG, MARKS_SRC, SAVED, SHARE, SLOTS,
                          TICKER, TICKER_SEEN, cid, slot_class)

WINDOW = 500  # bars a chart shows at first
STEP, MAX_BARS = 500, 5000  # scrolling back past the first bar loads STEP older bars, up to MAX_BARS in all
VIEW = "market-chart"


def _badge(cat: query.Catalog, symbol: str):
    if cat.is_demo(symbol):
        return dbc.Badge([html.I(className="bi bi-wifi-off me-1"), "offline demo data"], color="warning",
                         text_color="dark", className="fs-6", id="market-demo-badge",
                         title="Synthetic candles from Candlewise's seeded generator — not real prices.")
    if cat.origin(symbol) == "import":
        return dbc.Badge([html.I(className="bi bi-file-earmark-arrow-up me-1"), cat.label(symbol)], color="info",
                         text_color="dark", className="fs-6", id="market-import-badge",
                         title="Candles imported from a file (flask candles import) — no exchange keeps them current.")
    return dbc.Badge([html.I(className="bi bi-broadcast me-1"), cat.label(symbol)], color="success",
                     className="fs-6", id="market-live-badge")


def _ticker_chip(t, origin: str):
    up = t.change_24h_pct >= 0
    return html.Div([
        html.Strong(t.symbol, className="me-2"),
        html.Span(f"{t.price:,.2f}", className="me-2"),
        html.Span(f"{t.change_24h_pct:+.2f}%", className="text-success" if up else "text-danger"),
        html.Small(f" vol {t.volume_24h:,.0f}", className="text-muted ms-2"),
        html.Small(f" {origin}", className="text-warning ms-1") if origin != "live" else None,
    ], className="border rounded px-2 py-1", id={"type": "market-ticker-chip", "index": t.symbol})


def ticker_version(ticks, cat: query.Catalog) -> str:
    return "|".join(f"{t.symbol}:{t.price!r}:{t.change_24h_pct!r}:{t.volume_24h!r}:{cat.origin(t.symbol)}"
                    for t in ticks)


TICKER_TABLES = ("candles", "series")  # the ticker row: the live tickers (bumped as "candles") or the 1m bars


@callback(Output(TICKER, "children"), Output(TICKER_SEEN, "data"), Input(INTERVAL, "n_intervals"),
          State(TICKER_SEEN, "data"))
def update_tickers(_n, seen):
    now_stamp = tick_gate.stamp(tick_gate.counters(TICKER_TABLES), 60)  # the 24 h window moves by the minute
    if ctx.triggered_id == INTERVAL and tick_gate.unchanged(seen, now_stamp):
        raise PreventUpdate  # no bar or ticker was written since the last check: no database read
    db.session.commit()  # end the session check's read transaction before this request's work
    cat = page_catalog()
    ticks = query.tickers(db.session, cat, hot.live_cache())
    db.session.commit()  # end the read transaction before rendering
    version = ticker_version(ticks, cat)
    seen = seen if isinstance(seen, dict) else {}
    state = tick_gate.checked({"v": version}, now_stamp)
    if version == seen.get("v"):
        if now_stamp is None or tick_gate.unchanged(seen, now_stamp):
            raise PreventUpdate  # nothing new: an empty 204
        return no_update, state  # the same tickers: only the stamp of this check
    return [_ticker_chip(t, cat.origin(t.symbol)) for t in ticks], state


def spec_key(spec: dict) -> str:
    """A short name of what a chart draws (part of its shared view's key)."""
    return f"{'.'.join(spec['overlays']) or '-'}|{'.'.join(spec['panes']) or '-'}|s{spec['sma']}e{spec['ema']}"


def full_chart(cat: query.Catalog, sym: str, tf: str, spec: dict, log: bool, bars: int, version: str) -> dict:
    """``{"figure", "shown", "origin"}`` of a chart without the user's marks: the stored one of this version,
    else built (once per version for every user) and stored."""
    views = hot.view_cache()
    key = f"{cat.exchange[sym]}|{sym}|{tf}|{spec_key(spec)}|{bars}|{'log' if log else 'lin'}"
    def build() -> str:  # one request per version builds; the others wait for its bytes (no stampede)
        df, origin = query.recent_candles(db.session, cat, sym, tf, limit=bars + studies.CONTEXT_BARS,
                                          cache=hot.live_cache())
        db.session.commit()  # end the read transaction before the figure is built and encoded
        closed, forming = studies.split_forming(df, tf, datetime.now(timezone.utc))
        values = {k: v[-bars:] for k, v in studies.compute(closed, tf, spec).items()}
        closed = closed.iloc[-bars:]
        fig = chart_figure(closed, forming, values, spec, title=f"{sym} · {tf}", demo=cat.is_demo(sym), log=log,
                           revision=f"{sym}|{tf}|{spec_key(spec)}|{log}")
        now_shown = shown_state(closed, forming)
        body_json = '{"figure": %s, "shown": %s, "origin": %s}' % (fig.to_json(), json.dumps(now_shown),
                                                                    json.dumps(origin))
        return body_json

    return views.single_flight(VIEW, key, version, build)


def user_marks(cat: query.Catalog, sym: str, tf: str, spec: dict, user_id: int | None, backtest: dict | None,
               since: datetime) -> dict:
    """The signed-in user's marks for one chart (bounded reads; the caller ends the transaction). ``backtest``:
    ``{"backtest": id, "paper": id}`` when the page was opened from a backtest or a paper strategy."""
    exchange = cat.exchange[sym]
    out = {"levels": [], "fires": [], "trades": [], "pup": []}
    if user_id is not None:
        out["levels"] = marks.alert_levels(db.session, user_id, exchange, sym)
        out["fires"] = marks.alert_fires(db.session, user_id, exchange, sym, tf, since)
        out["trades"] = (marks.backtest_trades(db.session, user_id, (backtest or {}).get("backtest"), sym)
                         + marks.paper_trades(db.session, user_id, (backtest or {}).get("paper"), sym))
    snapshot = reads.snapshots(db.session, hot.signal_cache(), {sym: exchange}).get(sym) or {}
    out["events"] = [{k: e.get(k) for k in ("time", "direction", "event", "kind", "strength")}
                     for e in ((snapshot.get("timeframes") or {}).get(tf) or {}).get("events", [])]
    for e in out["events"]:
        e["time"] = pd.Timestamp(e["time"]).tz_convert("UTC").isoformat() if e["time"] else None
    if "pup" in spec["panes"]:
        from app.mlops.service import registry  # noqa: PLC0415 - only charts with the p(up) pane need it

        champion = registry(current_app.config["CW_SETTINGS"]).champion(sym, tf)
        out["pup"] = marks.p_up(db.session, exchange, sym, tf, champion.version if champion else None, since)
    return out


def digest(value) -> str:
    return hashlib.sha1(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _origin(seen: dict) -> str:
    return seen.get("origin") if seen.get("origin") in ("cache", "database") else "database"


def _status(now_shown: dict, origin: str) -> str:
    now = datetime.now(timezone.utc).strftime("%H:%M:%S UTC")
    if not now_shown["n"]:
        return f"no bars · updated {now}"
    last = datetime.fromisoformat(now_shown["last"])
    forming = " · forming bar drawn hollow" if now_shown.get("forming") else ""
    return (f"{now_shown['n']} bars from the {origin} · last closed bar opened {last:%Y-%m-%d %H:%M} UTC{forming} · "
            f"updated {now}")


def scrolled_before(relayout: dict, seen: dict, tf: str) -> bool:
    """Whether a pan or zoom (``relayoutData``) shows time before the chart's first bar."""
    start = relayout.get("xaxis.range[0]")
    if start is None and isinstance(relayout.get("xaxis.range"), list) and relayout["xaxis.range"]:
        start = relayout["xaxis.range"][0]
    if start is None or not isinstance(start, (str, int, float)) or isinstance(start, bool):
        return False
    try:
        t = pd.Timestamp(start)
        t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
        first = seen.get("first")
        if first is None:  # slid since drawn: the first bar is about n bars before the last
            first = pd.Timestamp(seen["last"]) - (int(seen["n"]) - 1) * TIMEFRAMES[tf]
        return t < pd.Timestamp(first)
    except (TypeError, ValueError, KeyError, OverflowError):
        return False


TICK_VIEW = "market-tick"


def bars_digest(bars: pd.DataFrame) -> str:
    """A version of some bars: their open times and values (a corrected bar is another version)."""
    h = hashlib.sha1(bars.index.asi8.tobytes())
    h.update(bars[["open", "high", "low", "close", "volume"]].to_numpy("float64").tobytes())
    return h.hexdigest()[:20]


def tick_studies(cat: query.Catalog, sym: str, tf: str, spec: dict, tail: pd.DataFrame, newer: pd.DataFrame) -> dict:
    """The studies' values of the newly closed bars ``newer``: ``{series: float array}``. Worked out once per
    version for every tab that shows this chart and kept in hot state (``app.hot.views``); the first tab
    reads the studies' context (``studies.context_bars``) and computes them."""
    views = hot.view_cache()
    key = f"{cat.exchange[sym]}|{sym}|{tf}|{spec_key(spec)}|{newer.index[0].value // 10**9}|{newer.index[-1].value // 10**9}"
    version = bars_digest(newer)
    body = views.read(TICK_VIEW, key, version)
    if isinstance(body, dict) and set(body) == set(studies.series_names(spec)):
        return {k: np.array([np.nan if x is None else x for x in v], dtype="float64") for k, v in body.items()}
    need = studies.context_bars(spec, tf, newer.index[-1]) + len(tail)
    try:
        context = tail if need <= len(tail) else query.recent_candles(db.session, cat, sym, tf, limit=need,
                                                                       cache=hot.live_cache())[0]
    finally:
        db.session.commit()  # end the read transaction before computing
    closed_ctx = context[context.index <= newer.index[-1]]
    values = {k: v[-len(newer):] for k, v in studies.compute(closed_ctx, tf, spec).items()}
    views.write(TICK_VIEW, key, version, json.dumps({k: chart_values(v) for k, v in values.items()}))
    return values


def chart_tick(cat, slot: int, symbol, timeframe, spec: dict, log: bool, relayout: dict, seen, user_id,
               backtest, triggered: set[str], counters: tuple[int, ...] | None = None):
    """One chart's outputs ``(figure, status, seen)`` and an error message (or None): ``no_update`` where
    nothing changed. ``counters``: the change counters read before this check (``tick_gate``); the
    chart's store keeps their stamp, so the next ticks can skip the check while they stay the same."""
    try:
        sym, tf = query.resolve(cat, symbol, timeframe)
    except query.UnknownSeries as exc:
        return (no_update, no_update, no_update), str(exc)
    try:
        spec = {**spec, "symbol": sym, "timeframe": tf}
        view = f"{cat.exchange[sym]}|{sym}|{tf}|{spec_key(spec)}|{'log' if log else 'lin'}"
        seen = seen if isinstance(seen, dict) and seen.get("view") == view else None
        bars = seen.get("bars") if seen else WINDOW
        bars = bars if isinstance(bars, int) and not isinstance(bars, bool) and WINDOW <= bars <= MAX_BARS else WINDOW
        older = (seen is not None and f"{cid('view', slot)}.data" in triggered and bars < MAX_BARS
                 and seen.get("n") == bars  # a window that is not full has nothing older to load
                 and scrolled_before(relayout, seen, tf))
        if older:
            bars = min(MAX_BARS, bars + STEP)
        tail = tail_bars(cat, sym, tf, seen)
        now = datetime.now(timezone.utc)
        tail_closed, forming = studies.split_forming(tail, tf, now)
        since = pd.Timestamp(tail.index[0] if len(tail) else now) - bars * TIMEFRAMES[tf]
        user_marks_now = user_marks(cat, sym, tf, spec, user_id, backtest, since.to_pydatetime())
    finally:
        db.session.commit()  # end the read transaction before the figure is built and encoded
    marks_digest = digest(user_marks_now)
    now_stamp = tick_gate.stamp(counters, int(TIMEFRAMES[tf].total_seconds()))
    update = None
    if seen is not None and not older and seen.get("marks") == marks_digest:
        update = tick_update(seen, tail_closed, forming, bars)
        if update == {}:  # nothing new for this chart: only the stamp of this check, when it moved
            if now_stamp is None or tick_gate.unchanged(seen, now_stamp):
                return (no_update, no_update, no_update), None
            return (no_update, no_update, tick_gate.checked(seen, now_stamp)), None
    if update is not None:
        newer = update["newer"]
        values = tick_studies(cat, sym, tf, spec, tail, newer) if len(newer) and studies.series_names(spec) else {}
        fig, now_shown, origin = chart_patch(update, values, spec), update["shown"], _origin(seen)
    else:
        version = f"{bar_signature(tail)}|{tail_closed.index[-1].isoformat() if len(tail_closed) else '-'}"
        body = full_chart(cat, sym, tf, spec, log, bars, version)
        fig = apply_marks(body["figure"], user_marks_now, spec)
        now_shown, origin = body["shown"], body["origin"]
    return (fig, _status(now_shown, origin),
            tick_gate.checked({"view": view, "origin": origin, "bars": bars, "marks": marks_digest, **now_shown},
                              now_stamp)), None


# What a chart reads: its bars (and the catalogue), the analysis' events, the champion's p(up), the user's
# alert levels and fires and paper fills (a backtest's trades never change once stored).
CHART_TABLES = ("candles", "series", "signals", "predictions", "alert_rules", "alert_events", "paper_fills")


def _chart_deps():
    """Inputs and states of :func:`update_chart`, in its argument order."""
    deps = [Input(cid("symbol", 0), "value"), Input(cid("timeframe", 0), "value"), Input(INTERVAL, "n_intervals"),
            Input(COUNT, "value"), Input(LOG, "value")]
    for k in SLOTS:
        if k:
            deps += [Input(cid("symbol", k), "value"), Input(cid("timeframe", k), "value")]
        deps += [Input(cid("overlays", k), "value"), Input(cid("panes", k), "value"), Input(cid("sma", k), "value"),
                 Input(cid("ema", k), "value"), Input(cid("view", k), "data")]
    deps += [State(cid("chart-seen", k), "data") for k in SLOTS]
    return deps + [State(MARKS_SRC, "data")]


def _chart_outputs():
    outs = [Output(cid("chart", 0), "figure"), Output(BADGE, "children"), Output(cid("status", 0), "children"),
            Output(ERROR, "children"), Output(ERROR, "is_open"), Output(cid("chart-seen", 0), "data")]
    for k in SLOTS:
        if k:
            outs += [Output(cid("chart", k), "figure"), Output(cid("status", k), "children"),
                     Output(cid("chart-seen", k), "data")]
    return outs


@callback(*_chart_outputs(), *_chart_deps())
def update_chart(*args):
    v = inputs.MARKET_CHARTS(*args)
    count, log = v["count"], v["log"]
    triggered = set(ctx.triggered_prop_ids or ())
    counters = tick_gate.counters(CHART_TABLES)  # read before the data, so a later write shows next tick
    if triggered == {f"{INTERVAL}.n_intervals"} and all(
            tick_gate.unchanged(v["seen"][k], tick_gate.stamp(counters, tick_gate.period(v["seen"][k])))
            for k in SLOTS[:count]):
        raise PreventUpdate  # nothing any chart reads was written since its last check: no database read
    db.session.commit()  # end the session check's read transaction before this request's work
    cat = page_catalog()
    try:
        user_id = signed_in_user_id()
    except PermissionError:
        user_id = None
    out, changed, error = [], False, None
    for k in SLOTS:
        chart = v["charts"][k]
        if k >= count:
            result, slot_error = (no_update, no_update, no_update), None
        else:
            result, slot_error = chart_tick(cat, k, chart["symbol"], chart["timeframe"], chart, log,
                                            chart["relayout"], v["seen"][k], user_id,
                                            v["trades"] if k == 0 else None, triggered, counters)
        changed = changed or any(r is not no_update for r in result)
        if k == 0:
            error = slot_error
            badge = no_update
            if result[0] is not no_update:
                try:
                    badge = _badge(cat, query.resolve(cat, chart["symbol"], chart["timeframe"])[0])
                except query.UnknownSeries:
                    pass
            # a message stays until dismissed (the page's own, e.g. a layout that was not used, included)
            out += [result[0], badge, result[1], error if error else no_update, True if error else no_update,
                    result[2]]
            changed = changed or bool(error)
        else:
            out += list(result)
    if not changed:
        raise PreventUpdate  # nothing new on any chart: an empty 204, nothing sent
    return tuple(out)


@callback(*[Output(cid("slot", k), "className") for k in SLOTS], Input(COUNT, "value"))
def show_charts(count):
    count = inputs.MARKET_COUNT(count)
    return tuple(slot_class(k, count) for k in SLOTS)


def _layout_deps():
    deps = [Input(COUNT, "value"), Input(LINK, "value"), Input(LOG, "value")]
    for k in SLOTS:
        deps += [Input(cid(t, k), "value") for t in ("symbol", "timeframe", "overlays", "panes", "sma", "ema")]
    return deps


@callback(Output(SAVED, "children"), Output(SHARE, "href"), *_layout_deps(), prevent_initial_call=True)
def save_layout(*args):
    """Saves the signed-in user's own layout. Viewers may save theirs too: it is their own row and changes
    nothing anyone else sees (classified as such in the security suite)."""
    lay = inputs.MARKET_LAYOUT(*args)
    user_id = signed_in_user_id()
    try:
        doc = store.save(db.session, user_id, lay)
        db.session.commit()
    except layouts.LayoutError as exc:
        db.session.rollback()
        return f"Layout not saved: {exc}", no_update
    saved = datetime.now(timezone.utc).strftime("%H:%M:%S UTC")
    return f"layout saved {saved}", f"/?layout={layouts.to_url(doc)}"


# A pan or zoom (``relayoutData`` with an x range) is handed to the server through a store; a resize
# (``{"autosize": true}``) is not, so it never supersedes a request that is loading older bars.
for _k in SLOTS:
    clientside_callback(
        """
        function(relayout) {
            if (!relayout || (relayout["xaxis.range[0]"] === undefined && relayout["xaxis.range"] === undefined)) {
                return window.dash_clientside.no_update;
            }
            return relayout;
        }
        """,
        Output(cid("view", _k), "data"), Input(cid("chart", _k), "relayoutData"), prevent_initial_call=True,
    )


# Linked crosshair: hovering one chart moves the others' spike lines to the same time (in the browser only).
clientside_callback(
    """
    function(h0, h1, h2, h3, link) {
        if (!link || !window.Plotly) { return window.dash_clientside.no_update; }
        // The other chart's bar nearest time x and every series drawn per bar at it (its readout), so
        // a mark of its own near x never takes the readout elsewhere; times compare in axis coordinates.
        function linkedPoints(div, x) {
            const xa = div._fullLayout.xaxis, xs = (div.data[0] || {}).x || [], at = xa.d2c(x);
            let k = -1, best = Infinity;
            for (let i = 0; i < xs.length; i++) {
                const d = Math.abs(xa.d2c(xs[i]) - at);
                if (d < best) { best = d; k = i; }
            }
            if (k < 0) { return {xval: at}; }
            const pts = [];
            div.data.forEach(function(t, i) {
                if (t.x && t.x.length === xs.length && t.x[k] === xs[k]) { pts.push({curveNumber: i, pointNumber: k}); }
            });
            return pts;
        }
        const ids = ["market-chart", "market-chart-1", "market-chart-2", "market-chart-3"];
        const trig = (window.dash_clientside.callback_context.triggered[0] || {}).prop_id || "";
        const src = trig.split(".")[0];
        const hover = [h0, h1, h2, h3][ids.indexOf(src)];
        if (!hover || !hover.points || !hover.points.length) { return window.dash_clientside.no_update; }
        // the bar's time: a signal or alert mark of the bar before can come first in the hover points
        const x = (hover.points.find(function(p) { return p.curveNumber === 0; }) || hover.points[0]).x;
        if (window.__cwLinkedX === x) { return window.dash_clientside.no_update; }  // the echo of our own hover
        window.__cwLinkedX = x;
        ids.forEach(function(id) {
            if (id === src) { return; }
            const div = document.querySelector("#" + id + " .js-plotly-plot");
            if (div && div.data && div.offsetParent !== null) {
                try { window.Plotly.Fx.hover(div, linkedPoints(div, x), Object.keys(div._fullLayout._plots)); }
                catch (e) {}
            }
        });
        return x;
    }
    """,
    Output(LINKED, "data"), *[Input(cid("chart", k), "hoverData") for k in SLOTS], State(LINK, "value"),
    prevent_initial_call=True,
)
