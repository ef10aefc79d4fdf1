"""app.ops.callback_envelope.check: the shape of a callback request, before Dash reads it."""
import pytest

from app.ops.callback_envelope import BadEnvelope, check

PATTERN = '{"index":["ALL"],"type":"admin-user-activate"}'
MAP = {
    "chart.figure": {"callback": object(), "inputs": [{"id": "symbol", "property": "value"}],
                     "state": [{"id": "store", "property": "data"}]},
    "msg.children": {"callback": object(), "inputs": [{"id": PATTERN, "property": "n_clicks"}], "state": []},
    "_pages_content.children": {"callback": object(), "inputs": [{"id": "_pages_location", "property": "pathname"}],
                                "state": []},
    "clientside.children": {"inputs": [], "state": []},  # no server function
}


def chart(**changes):
    base = {"output": "chart.figure", "outputs": {"id": "chart", "property": "figure"},
            "inputs": [{"id": "symbol", "property": "value", "value": "BTC/USDT"}],
            "state": [{"id": "store", "property": "data", "value": None}], "changedPropIds": ["symbol.value"]}
    base.update(changes)
    return base


def buttons(ids, changed):
    return {"output": "msg.children", "outputs": {"id": "msg", "property": "children"},
            "inputs": [[{"id": i, "property": "n_clicks", "value": 1} for i in ids]], "changedPropIds": changed}


def refused(payload) -> str:
    with pytest.raises(BadEnvelope) as err:
        check(payload, MAP)
    return str(err.value)


def test_well_formed_requests_pass():
    check(chart(), MAP)
    check(chart(changedPropIds=[]), MAP)
    check(buttons([{"type": "admin-user-activate", "index": 3}], ['{"index":3,"type":"admin-user-activate"}.n_clicks']),
          MAP)
    check({"output": "_pages_content.children", "outputs": [],
           "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/signals"}]}, MAP)


@pytest.mark.parametrize("payload, message", [
    (["chart.figure"], "must be a JSON object"),
    (chart(output="nope.children"), "Unknown callback output"),
    (chart(output="clientside.children"), "Unknown callback output"),
    (chart(output=["chart.figure"]), "Unknown callback output"),
    (chart(inputs="symbol"), "inputs must list the callback's 1 dependencies"),
    (chart(inputs=[]), "inputs must list"),
    (chart(state=None), "state must list"),
    (chart(inputs=["symbol"]), "inputs[0] must be an object"),
    (chart(inputs=[{"id": 5, "property": "value"}]), "text or object id"),
    (chart(inputs=[{"id": "other", "property": "value"}]), "not a component this callback reads"),
    (chart(inputs=[{"id": "symbol", "property": "options"}]), "not a component this callback reads"),
    (chart(outputs="chart"), "outputs[0] must be an object"),
    (chart(changedPropIds="symbol.value"), "changedPropIds must be a list"),
    (chart(changedPropIds=["symbol"]), "'component.property'"),
    (chart(changedPropIds=["store.data"]), "not an input of this callback"),
    (chart(changedPropIds=['{"type": .value']), "not a JSON object"),
    (buttons([{"type": "admin-model-promote", "index": 3}], []), "not a component this callback reads"),
    (buttons([{"type": "admin-user-activate", "index": 3, "x": 1}], []), "not a component this callback reads"),
    (buttons([{"type": "admin-user-activate", "index": 3}], ['{"index":3,"type":"other"}.n_clicks']),
     "not an input of this callback"),
    ({"output": "_pages_content.children", "outputs": [],
      "inputs": [{"id": "_pages_location", "property": "pathname", "value": ["/"]}]}, "must be a URL path"),
    ({"output": "_pages_content.children", "outputs": [],
      "inputs": [{"id": "_pages_location", "property": "pathname", "value": "signals"}]}, "must be a URL path"),
])
def test_malformed_requests_are_refused_with_a_reason(payload, message):
    assert message in refused(payload)
