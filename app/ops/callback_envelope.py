"""The shape of a Dash callback request, checked before Dash reads it.

``POST /_dash-update-component`` carries JSON that Dash trusts: an ``output`` naming a registered
callback, ``inputs`` and ``state`` with one entry per dependency (an ``{"id", "property", "value"}``
object, or a list of them for a pattern-matched dependency), ``outputs`` and ``changedPropIds``.
A body of another shape made Dash itself fail with a 500 (an unknown output, a string where an
entry goes, a changed id that is not JSON, a non-text path for the pages router). Here such a
request gets a 400 that says what is wrong, and so does one whose entries or changed ids name
components the callback does not read (Dash matches entries by position only); the values inside well-formed entries are each
callback's own schema's business (``callbacks.inputs``).

Runs after the sign-in guard and the origin check (it is registered after them), so an anonymous
or cross-site request is still refused as such first.
"""
from __future__ import annotations

import json
from typing import Any

from flask import jsonify, request

MAX_ENTRIES = 10_000  # components in one pattern-matched dependency
MAX_CHANGED = 100
MAX_ID_TEXT = 1_000
# Dash's own pages router reads these as URL parts; anything but text (or nothing) makes it fail.
URL_PROPS = {"pathname", "search", "hash", "href"}


class BadEnvelope(ValueError):
    pass


def _pattern(text_id: str) -> dict | None:
    if not text_id.startswith("{"):
        return None
    try:
        parsed = json.loads(text_id)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _id_matches(cid: Any, declared: str) -> bool:
    """Whether a sent component id is the declared one (a pattern: same keys, same fixed values)."""
    pattern = _pattern(declared)
    if pattern is None:
        return cid == declared
    if not isinstance(cid, dict) or set(cid) != set(pattern):
        return False
    return all(isinstance(v, list) or cid[k] == v for k, v in pattern.items())  # ["ALL"] etc. match any


def _dependency(entry: Any, where: str, expected: dict | None = None) -> None:
    if isinstance(entry, list):
        if len(entry) > MAX_ENTRIES:
            raise BadEnvelope(f"{where} lists {len(entry):,} components; at most {MAX_ENTRIES:,}.")
        for k, item in enumerate(entry):
            _single(item, f"{where}[{k}]", expected)
    else:
        _single(entry, where, expected)


def _single(entry: Any, where: str, expected: dict | None = None) -> None:
    if not isinstance(entry, dict):
        raise BadEnvelope(f"{where} must be an object with id and property.")
    cid, prop = entry.get("id"), entry.get("property")
    if not isinstance(cid, (str, dict)) or not isinstance(prop, str):
        raise BadEnvelope(f"{where} must have a text or object id and a text property.")
    if expected is not None and not (prop == expected["property"] and _id_matches(cid, expected["id"])):
        raise BadEnvelope(f"{where} is not a component this callback reads.")
    if isinstance(cid, str) and cid.startswith("_pages_") and prop in URL_PROPS:
        value = entry.get("value")
        if value is not None and not (isinstance(value, str) and (prop != "pathname" or value.startswith("/"))):
            raise BadEnvelope(f"{where}: {cid}.{prop} must be a URL path.")


def _changed(value: Any, inputs: list[dict]) -> None:
    if not isinstance(value, list) or len(value) > MAX_CHANGED:
        raise BadEnvelope(f"changedPropIds must be a list of at most {MAX_CHANGED} ids.")
    for item in value:
        if not isinstance(item, str) or len(item) > MAX_ID_TEXT or "." not in item:
            raise BadEnvelope("changedPropIds must hold 'component.property' texts.")
        cid, prop = item.rsplit(".", 1)
        if cid.startswith("{"):
            cid = _pattern(cid)
            if cid is None:
                raise BadEnvelope("changedPropIds holds a pattern id that is not a JSON object.")
        if not any(prop == d["property"] and _id_matches(cid, d["id"]) for d in inputs):
            raise BadEnvelope("changedPropIds names a property that is not an input of this callback.")


def check(body: Any, callback_map: dict) -> None:
    """Raise :class:`BadEnvelope` unless ``body`` is a callback request Dash can dispatch."""
    if not isinstance(body, dict):
        raise BadEnvelope("A callback request must be a JSON object.")
    output = body.get("output")
    if not isinstance(output, str) or "callback" not in callback_map.get(output, {}):
        raise BadEnvelope("Unknown callback output.")  # (a clientside callback runs in the browser only)
    spec = callback_map[output]
    for section in ("inputs", "state"):
        entries = body.get(section, [] if section == "state" else None)
        if not isinstance(entries, list) or len(entries) != len(spec.get(section, [])):
            raise BadEnvelope(f"{section} must list the callback's {len(spec.get(section, []))} dependencies.")
        for k, entry in enumerate(entries):
            _dependency(entry, f"{section}[{k}]", spec[section][k])
    outputs = body.get("outputs")
    for k, entry in enumerate(outputs if isinstance(outputs, list) else [outputs]):
        _dependency(entry, f"outputs[{k}]")
    _changed(body.get("changedPropIds", []), spec["inputs"])


def init_dash(app) -> None:
    server = app.server
    path = f"{app.config.requests_pathname_prefix}_dash-update-component"

    def _check_callback_request():
        if request.method != "POST" or request.path != path:
            return None
        try:
            check(request.get_json(silent=True), app.callback_map)
        except BadEnvelope as exc:
            return jsonify(error=str(exc)), 400
        return None

    server.before_request(_check_callback_request)
