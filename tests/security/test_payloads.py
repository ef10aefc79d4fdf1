"""Oversized and type-confused callback requests: a 413, a 4xx with a message or a field message in a
200 answer, never a 500. Values are generated per callback input from ``/_dash-dependencies``."""
from __future__ import annotations

import json
import math

import pytest

from tests.security.callback_requests import UPDATE, body, dep
from tests.security.conftest import by_name

HUGE = "A" * 300_000  # under the 1 MB body limit: it reaches the callback
BAD_VALUES = [["1h", "1m"], {"timeframe": "1h"}, True, HUGE, math.nan, math.inf, -1, "1; DROP TABLE users"]
BAD_INDEXES = ["seven", {"x": 1}, [1], "BTC/USDT|1h", True, 10 ** 30, HUGE[:5_000]]


def post(client, payload, **kwargs):
    return client.post(UPDATE, data=json.dumps(payload), content_type="application/json", **kwargs)


def _problem(resp) -> str | None:
    if resp.status_code >= 500:
        return f"{resp.status_code}"
    if resp.status_code >= 400:
        try:
            message = resp.get_json(silent=True) or {}
        except Exception:  # noqa: BLE001 - any non-JSON 4xx is reported below
            message = {}
        return None if message.get("error") else f"{resp.status_code} without a message"
    if resp.status_code == 200:
        try:
            json.loads(resp.get_data(as_text=True))
        except ValueError:
            return "200 that is not JSON"
    return None


def test_oversized_payload_is_413_on_every_callback(callbacks, as_role, web):
    limit = web.server.config["MAX_CONTENT_LENGTH"]
    answers = {}
    for cb in callbacks:
        payload = body(cb.spec)
        payload["state"] = payload["state"] + [{"id": "x", "property": "data", "value": "A" * (limit + 1)}]
        resp = post(as_role["trader"], payload)
        answers[cb.name] = resp.status_code
        assert b"A" * 1000 not in resp.data
    assert set(answers.values()) == {413}, answers
    big_login = as_role[None].post("/login", data={"email": "a@example.com", "password": "A" * (limit + 1)})
    assert big_login.status_code == 413


def test_type_confused_values_never_give_a_500(callbacks, as_role):
    """Every input and state of every callback, one at a time, as a list, a dict, a boolean, 300 KB of
    text, NaN, infinity, a negative number and an injection string; pattern-matched components also
    with ids of the wrong type or shape. Sent as an admin, so every guard lets it through."""
    admin = as_role["admin"]
    problems, sent = {}, 0
    for cb in callbacks:
        for d in cb.spec.deps:
            trigger = d if d.section == "inputs" else None
            for value in BAD_VALUES:
                resp = post(admin, body(cb.spec, {d: value}, trigger=trigger, index=999_999_999))
                sent += 1
                if (problem := _problem(resp)) is not None:
                    problems[(cb.name, d.label, repr(value)[:30])] = problem
            if d.is_pattern:
                for index in BAD_INDEXES:
                    resp = post(admin, body(cb.spec, {d: 1}, trigger=trigger, index=index))
                    sent += 1
                    if (problem := _problem(resp)) is not None:
                        problems[(cb.name, d.label, f"index {repr(index)[:30]}")] = problem
    assert not problems, problems
    assert sent > 500


def test_malformed_callback_requests_are_400_with_a_message(callbacks, as_role):
    trader = as_role["trader"]
    cb = by_name(callbacks)["callbacks.market.update_chart"]
    good = body(cb.spec)
    cases = {
        "not an object": ["output", good["output"]],
        "unknown output": {**good, "output": "nope.children"},
        "clientside output": {**good, "output": "_pages_dummy.children"},
        "inputs not a list": {**good, "inputs": "market-symbol"},
        "entry not an object": {**good, "inputs": ["market-symbol", *good["inputs"][1:]]},
        "too few inputs": {**good, "inputs": good["inputs"][:1]},
        "id of a wrong type": {**good, "inputs": [{"id": 5, "property": "value", "value": "x"}, *good["inputs"][1:]]},
        "changed id not JSON": {**good, "changedPropIds": ['{"type": .value']},
        "changed ids not a list": {**good, "changedPropIds": "market-symbol.value"},
        "another component's id": {**good, "inputs": [{"id": "admin-train-symbol", "property": "value",
                                                       "value": "x"}, *good["inputs"][1:]]},
        "another property": {**good, "inputs": [{"id": "market-symbol", "property": "options", "value": "x"},
                                                *good["inputs"][1:]]},
        "changed id not an input": {**good, "changedPropIds": ["admin-users.id"]},
    }
    router = by_name(callbacks)["dash.dash.Dash.enable_pages.<locals>.router_sync.<locals>.update"]
    for value in (["/"], {"p": 1}, True, "no-leading-slash"):
        cases[f"page path {value!r}"] = body(router.spec, {router.spec.deps[0]: value})
    toggle = by_name(callbacks)["callbacks.admin.set_user_active"].spec
    wrong_type = body(toggle, {toggle.deps[0]: 1})
    wrong_type["inputs"][0][0]["id"] = {"type": "admin-model-promote", "index": 1}
    cases["pattern id of another type"] = wrong_type
    extra_key = body(toggle, {toggle.deps[0]: 1})
    extra_key["inputs"][0][0]["id"]["extra"] = 1
    cases["pattern id with another key"] = extra_key
    answers = {name: post(as_role["admin"] if "pattern id" in name else trader, payload)
               for name, payload in cases.items()}
    assert {n: r.status_code for n, r in answers.items()} == {n: 400 for n in cases}
    assert all(r.get_json()["error"] for r in answers.values())
    assert post(trader, good).status_code == 200  # the well-formed request still works


# -- the issue's own examples, each answered with its field's message ------------------------------

def _submit_body(spec, **changes):
    """The backtest form as the page sends it, with ``changes`` (field -> value; ``param_<name>`` for
    a strategy parameter)."""
    form = {"bt-symbols": ["BTC/USDT"], "bt-timeframe": "1h", "bt-start": "2000-01-01", "bt-end": "2100-01-01",
            "bt-strategy": "ma_cross", "bt-fee-bps": 4, "bt-slippage-bps": 2, "bt-sizing": "all_in",
            "bt-fraction-pct": 100, "bt-initial-cash": 10_000, "bt-cash-per-trade": 1_000, "bt-stop-loss-pct": None,
            "bt-take-profit-pct": None, "bt-mode": "single", "bt-train-bars": 500, "bt-test-bars": 100,
            "bt-wf-metric": "sharpe"}
    params = {"fast": "10", "slow": "30", "ema": "false"}
    for key, value in changes.items():
        if key.startswith("param_"):
            params[key[6:]] = value
        else:
            form[key] = value
    values = {dep(spec, cid, "value"): v for cid, v in form.items()}
    raw = {dep(spec, "bt-param", "value"): [{"id": {"type": "bt-param", "index": k}, "property": "value", "value": v}
                                            for k, v in params.items()],
           dep(spec, "bt-param", "id"): [{"id": {"type": "bt-param", "index": k}, "property": "id",
                                          "value": {"type": "bt-param", "index": k}} for k in params]}
    return body(spec, {dep(spec, "bt-submit", "n_clicks"): 1, **values}, raw=raw)


@pytest.mark.parametrize("changes, message", [
    ({"bt-strategy": ["ma_cross"]}, "Unknown strategy"),
    ({"bt-strategy": {"name": "ma_cross"}}, "Unknown strategy"),
    ({"bt-timeframe": ["1h", "1m"]}, "Timeframe must be one of"),
    ({"param_fast": "inf"}, "fast must be finite"),
    ({"bt-fee-bps": True}, "Fee (bps) must be a number, got True"),
    ({"param_ema": "maybe"}, "ema must be true or false, got 'maybe'"),
])
def test_finding_11_backtest_form_answers_with_the_field_message(callbacks, as_role, changes, message):
    spec = by_name(callbacks)["callbacks.backtests.submit"].spec
    resp = post(as_role["trader"], _submit_body(spec, **changes))
    assert resp.status_code == 200, resp.data[:300]
    answer = resp.get_json()["response"]
    assert message in json.dumps(answer["bt-form-msg"]), answer
    assert "bt-active" not in answer  # nothing was queued


def _refused_with(resp, component: str, message: str):
    assert resp.status_code == 200, resp.data[:300]
    doc = resp.get_json()
    side = doc.get("sideUpdate", {})
    assert component in side and message in json.dumps(side[component]), doc
    assert not any(v for v in doc.get("response", {}).values()), doc  # no output changed


def test_finding_11_market_timeframe_list_and_symbol_dict(callbacks, as_role):
    spec = by_name(callbacks)["callbacks.market.update_chart"].spec
    tf, sym = dep(spec, "market-timeframe", "value"), dep(spec, "market-symbol", "value")
    _refused_with(post(as_role["viewer"], body(spec, {sym: "BTC/USDT", tf: ["1h", "1m"]}, trigger=tf)),
                  "shell-input-error", "Timeframe must be text, got a list.")
    _refused_with(post(as_role["viewer"], body(spec, {sym: {"symbol": "BTC/USDT"}, tf: "1h"}, trigger=sym)),
                  "shell-input-error", "Symbol must be text, got a mapping.")


def test_finding_11_poll_with_a_non_list_run_id(callbacks, as_role):
    spec = by_name(callbacks)["callbacks.backtests.poll"].spec
    active = dep(spec, "bt-active", "data")
    _refused_with(post(as_role["trader"], body(spec, {active: {"ids": "17", "batch_id": None}})),
                  "bt-form-msg", "Followed run ids must be a list, got text.")
    _refused_with(post(as_role["trader"], body(spec, {active: {"ids": [{"id": 1}]}})),
                  "bt-form-msg", "Followed run ids[0] must be a whole number, got a mapping.")


def test_finding_11_admin_toggle_with_a_non_numeric_id(callbacks, as_role):
    spec = by_name(callbacks)["callbacks.admin.set_user_active"].spec
    deactivate = dep(spec, "admin-user-deactivate", "n_clicks")
    resp = post(as_role["admin"], body(spec, {deactivate: 1}, trigger=deactivate, index="seven"))
    assert resp.status_code == 200
    answer = resp.get_json()["response"]
    assert "User id must be a whole number, got 'seven'." in json.dumps(answer["admin-users-msg"]), answer
    assert "admin-users" not in answer  # the table did not change

def test_finding_11_malformed_promote_id(callbacks, as_role):
    spec = by_name(callbacks)["callbacks.admin_models.change_champion"].spec
    promote = dep(spec, "admin-model-promote", "n_clicks")
    for index in ("BTC/USDT|1h", "BTC/USDT|1h|v3", 42):
        resp = post(as_role["admin"], body(spec, {promote: 1}, trigger=promote, index=index))
        _refused_with(resp, "admin-models-msg", "Model")


def test_finding_11_training_epochs_true_is_refused(callbacks, as_role):
    spec = by_name(callbacks)["callbacks.admin_models.start_training"].spec
    values = {dep(spec, "admin-train-button", "n_clicks"): 1, dep(spec, "admin-train-symbol", "value"): "BTC/USDT",
              dep(spec, "admin-train-timeframe", "value"): "1h", dep(spec, "admin-train-epochs", "value"): True}
    _refused_with(post(as_role["admin"], body(spec, values)), "admin-train-output",
                  "Max epochs must be a whole number, got True.")


def test_admin_sections_answer_with_the_field_message(web, callbacks, as_role):
    """The users, emergency-stop, system and audit sections refuse a wrong type with the field's
    message in the section's own message slot and change nothing."""
    import app.hot as hot

    names = by_name(callbacks)
    stop = names["callbacks.admin_controls.stop"].spec
    _refused_with(post(as_role["admin"], body(stop, {dep(stop, "admin-confirm-stop", "submit_n_clicks"): 1,
                                                     dep(stop, "admin-stop-reason", "value"): ["outage"]})),
                  "admin-controls-msg", "Reason must be text, got a list.")
    with web.server.app_context():
        assert not hot.system_state().is_stopped()
    confirm = names["callbacks.admin_users.confirm_delete"].spec
    _refused_with(post(as_role["admin"], body(confirm, {dep(confirm, "admin-user-confirm-delete", "submit_n_clicks"): 1,
                                                        dep(confirm, "admin-user-pending-delete", "data"): True})),
                  "admin-users-msg", "User id must be a whole number, got True.")
    failed = names["callbacks.admin_system.failed_action"].spec
    requeue = dep(failed, "admin-failed-requeue", "n_clicks")
    _refused_with(post(as_role["admin"], body(failed, {requeue: 1}, trigger=requeue, index="no-separator")),
                  "admin-system-msg", "is not a job of this page")
    audit = names["callbacks.admin_audit.show_audit"].spec
    text_dep = dep(audit, "admin-audit-text", "value")
    _refused_with(post(as_role["admin"], body(audit, {text_dep: {"actor": "x"}}, trigger=text_dep)),
                  "admin-audit-table", "Actor or target must be text, got a mapping.")
