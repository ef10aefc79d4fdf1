/* The Market chart's data age, worked out in the browser (callbacks/market_feed.py registers the callbacks).

On every interval tick, and whenever a chart's store or the feeds' state changes, each chart's freshness
line is worked out again from what the page already holds: the chart's store (its view and last closed
bar, written by the chart callback) and the feeds' state the server sends every 30 s (the breakers, the
server's clock). So the age keeps counting while the tick gate answers the chart callback with an empty
204, and no request is made for it. Ages are measured on the server's clock: the browser's own may be off.

This is a line-for-line copy of app.market.freshness.chart_freshness / age_text and
callbacks.market_feed.seen_series / describe_seen; tests/browser/test_market_freshness.py checks that both
give the same answer for the same cases. Change them together.
*/
(function () {
    "use strict";
    var TIMEFRAMES = { "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400 };
    var STALE_PERIODS = 2;
    var FEED_DOWN = { "open": true, "half-open": true };
    var LIVE_EXCHANGES = ["binance", "coinbase", "kraken"];  // app.market.origins.LIVE_EXCHANGES
    var DEMO_EXCHANGE = "demo";
    var FRESH_CLASS = "market-freshness small d-block text-muted";
    var STALE_CLASS = "market-freshness market-stale small d-block text-warning fw-semibold";
    var ISO_WITH_OFFSET = /^.*(Z|[+-][0-9][0-9]:[0-9][0-9])$/;
    var DASH = " \u2014 ";

    function ageText(seconds) {
        var s = Math.floor(Math.max(0, seconds));
        if (s < 60) { return "<1 min"; }
        if (s < 3600) { return Math.floor(s / 60) + " min"; }
        if (s < 2 * 86400) { return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min"; }
        return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
    }

    function chartFreshness(lastOpenS, timeframe, exchange, origin, breaker, nowS) {
        var period = TIMEFRAMES[timeframe];
        var down = breaker !== null && FEED_DOWN.hasOwnProperty(breaker);
        var age = lastOpenS === null ? null : Math.max(0, nowS - (lastOpenS + period));
        var late = age !== null && age >= STALE_PERIODS * period;
        var head = age === null ? "no bars stored" : "data " + ageText(age) + " old";
        if (down) {
            return { age_s: age, stale: true,
                     text: head + DASH + exchange + " feed unavailable (circuit " + breaker + "), showing stored bars" };
        }
        if (!late) { return { age_s: age, stale: false, text: head }; }
        var why;
        if (origin === "import") {
            why = "imported bars, no feed keeps them current";
        } else if (origin === "demo") {
            why = "no new " + timeframe + " bar from the demo feed for " + STALE_PERIODS + "+ periods";
        } else {
            why = "no new " + timeframe + " bar from " + exchange + " for " + STALE_PERIODS + "+ periods";
        }
        return { age_s: age, stale: true, text: head + DASH + why + ", showing stored bars" };
    }

    function originOf(exchange) {
        if (LIVE_EXCHANGES.indexOf(exchange) !== -1) { return "live"; }
        return exchange === DEMO_EXCHANGE ? "demo" : "import";
    }

    function isMapping(value) {
        return value !== null && typeof value === "object" && !Array.isArray(value);
    }

    function seenSeries(seen) {
        if (!isMapping(seen) || typeof seen.view !== "string") { return null; }
        var parts = seen.view.split("|");
        if (parts.length < 3 || !parts[0] || !TIMEFRAMES.hasOwnProperty(parts[2])) { return null; }
        var last = seen.last;
        if (last === null || last === undefined) { return [parts[0], parts[2], null]; }
        if (typeof last !== "string" || last.length > 40 || !ISO_WITH_OFFSET.test(last)) { return null; }
        var ms = Date.parse(last);
        if (isNaN(ms)) { return null; }
        return [parts[0], parts[2], ms / 1000];
    }

    function describeSeen(seen, feeds, atS) {
        var series = seenSeries(seen);
        if (series === null) { return ["", FRESH_CLASS]; }
        var kind = originOf(series[0]);
        var breakers = isMapping(feeds) && kind === "live" ? feeds.breakers : null;  // demo, imports: none
        var breaker = isMapping(breakers) && breakers.hasOwnProperty(series[0]) ? breakers[series[0]] : null;
        var f = chartFreshness(series[2], series[1], series[0], kind, typeof breaker === "string" ? breaker : null, atS);
        return [f.text, f.stale ? STALE_CLASS : FRESH_CLASS];
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        cw_freshness: {
            ageText: ageText, chartFreshness: chartFreshness, originOf: originOf, seenSeries: seenSeries,
            describeSeen: describeSeen,
            // the browser's clock minus the server's, measured when the feeds' state arrives
            clock: function (feeds) {
                var now = isMapping(feeds) ? feeds.now : null;
                return { offset_ms: typeof now === "number" && isFinite(now) ? now * 1000 - Date.now() : 0 };
            },
            line: function (_n, seen, clock, feeds) {
                var offset = isMapping(clock) && typeof clock.offset_ms === "number" && isFinite(clock.offset_ms)
                    ? clock.offset_ms : 0;
                return describeSeen(seen, feeds, (Date.now() + offset) / 1000);
            }
        }
    });
})();
