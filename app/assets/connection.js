/* The "connection lost, retrying" banner of the shell (pages/_shell.py, id shell-connection-alert).

Watches Dash's own requests (/_dash-update-component, /_dash-layout, ...): a request that cannot reach
the server (a network error) or that a proxy answers 502/503/504 while the app restarts shows the
banner; from then on /healthz is probed every few seconds, and the first answer from the server (a
probe or any Dash request) hides it again. The pages' own intervals keep firing meanwhile, so they
update again by themselves once the server is back. No request is made while the connection is fine.
*/
(function () {
    "use strict";
    if (window.__cwConnection) { return; }
    var BANNER_ID = "shell-connection-alert";
    var PROBE_MS = 2000;
    var GATEWAY_DOWN = { 502: true, 503: true, 504: true };
    var originalFetch = window.fetch.bind(window);
    var state = { lost: false, since: null, probe: null, failures: 0 };
    window.__cwConnection = state;

    function isDashRequest(input) {
        var url = typeof input === "string" ? input : (input && input.url) || "";
        return url.indexOf("/_dash-") !== -1;
    }

    function render() {
        var el = document.getElementById(BANNER_ID);
        if (!el) { return; }
        el.classList.toggle("d-none", !state.lost);
        el.setAttribute("data-connection", state.lost ? "lost" : "ok");
    }

    function probe() {
        originalFetch("/healthz", { cache: "no-store", credentials: "same-origin" }).then(function (resp) {
            if (!GATEWAY_DOWN[resp.status]) { restored(); }
        }, function () { /* still unreachable: the next probe tries again */ });
    }

    function lost() {
        state.failures += 1;
        if (!state.lost) {
            state.lost = true;
            state.since = new Date().toISOString();
            state.probe = window.setInterval(probe, PROBE_MS);
        }
        render();
    }

    function restored() {
        if (state.probe !== null) { window.clearInterval(state.probe); state.probe = null; }
        if (state.lost) { state.lost = false; state.since = null; }
        render();
    }

    window.fetch = function (input, init) {
        var request = originalFetch(input, init);
        if (!isDashRequest(input)) { return request; }
        return request.then(function (resp) {
            if (GATEWAY_DOWN[resp.status]) { lost(); } else { restored(); }
            return resp;
        }, function (err) {
            lost();
            throw err;
        });
    };
    // the banner may mount after a failure (the page layout is rendered by React): show it then
    new MutationObserver(function () {
        if (state.lost) { render(); }
    }).observe(document.documentElement, { childList: true, subtree: true });
})();
