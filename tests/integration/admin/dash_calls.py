"""Call a Dash callback over HTTP the way the browser does, found by one of its outputs."""
from __future__ import annotations

import json


def _spec(client, output_has: str) -> dict:
    deps = client.get("/_dash-dependencies").get_json()
    return next(d for d in deps if output_has in d["output"])


def _input_id(dep) -> str:
    return json.loads(dep["id"])["type"] if dep["id"].startswith("{") else dep["id"]


def _spec_by_input(client, input_id: str) -> dict:
    deps = client.get("/_dash-dependencies").get_json()
    return next(d for d in deps if any(_input_id(i) == input_id for i in d["inputs"]))


def _items(deps, values, pattern):
    out = []
    for dep in deps:
        cid, prop = dep["id"], dep["property"]
        if cid.startswith("{"):
            kind = json.loads(cid)["type"]
            out.append([{"id": {"type": kind, "index": i}, "property": prop, "value": v}
                        for i, v in pattern.get((kind, prop), [])])
        else:
            out.append({"id": cid, "property": prop, "value": values.get(f"{cid}.{prop}")})
    return out


def dash_post(client, output_has: str, values: dict | None = None, changed: list[str] | None = None,
              pattern: dict | None = None):
    """POST /_dash-update-component for the callback with an output containing ``output_has``.

    ``values``: ``{"id.prop": value}`` for inputs and states; ``pattern``: ``{(type, prop): [(index, value)]}``
    for pattern-matching inputs; ``changed``: the triggering ``id.prop`` (default: every plain value given).
    """
    return _post(client, _spec(client, output_has), values, changed, pattern)


def dash_post_by_input(client, input_id: str, values: dict | None = None, changed: list[str] | None = None,
                       pattern: dict | None = None):
    """As :func:`dash_post`, for the callback with an input whose id (or pattern type) is ``input_id``."""
    return _post(client, _spec_by_input(client, input_id), values, changed, pattern)


def _post(client, spec, values, changed, pattern):
    values, pattern = values or {}, pattern or {}
    outs = []
    for part in spec["output"].strip(".").split("..."):
        cid, prop = part.rsplit(".", 1)
        outs.append({"id": cid, "property": prop})
    if changed is None:
        changed = list(values) + [json.dumps({"index": i, "type": k}, separators=(",", ":")) + f".{p}"
                                  for (k, p), items in pattern.items() for i, _v in items]
    payload = {"output": spec["output"], "outputs": outs if len(outs) > 1 else outs[0],
               "inputs": _items(spec["inputs"], values, pattern), "state": _items(spec["state"], values, pattern),
               "changedPropIds": changed}
    return client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
