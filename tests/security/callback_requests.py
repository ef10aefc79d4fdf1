"""Callback requests built from ``GET /_dash-dependencies``: the body a browser would POST to
``/_dash-update-component`` for one callback, with any input's value replaced."""
from __future__ import annotations

import json
from dataclasses import dataclass

UPDATE = "/_dash-update-component"


@dataclass(frozen=True)
class Dep:
    """One input or state of a callback: its section, position, id (text or pattern) and property."""
    section: str  # "inputs" or "state"
    position: int
    raw_id: str  # as the dependencies route writes it (a pattern id as JSON text)
    property: str

    @property
    def id(self) -> str | dict:
        return json.loads(self.raw_id) if self.raw_id.startswith("{") else self.raw_id

    @property
    def is_pattern(self) -> bool:
        return isinstance(self.id, dict)

    @property
    def label(self) -> str:
        cid = self.id if isinstance(self.id, str) else self.id.get("type")
        return f"{self.section[:-1] if self.section == 'inputs' else 'state'}:{cid}.{self.property}"


@dataclass(frozen=True)
class Spec:
    """One registered callback as the dependencies route describes it."""
    output: str
    outputs: tuple[tuple[str, str], ...]  # (component id, property), "@hash" suffixes dropped
    deps: tuple[Dep, ...]

    @property
    def name(self) -> str:
        return self.outputs[0][0] + "." + self.outputs[0][1] + ("+" if len(self.outputs) > 1 else "")


def specs(dependencies: list[dict]) -> list[Spec]:
    out = []
    for d in dependencies:
        text = d["output"]
        parts = text[2:-2].split("...") if text.startswith("..") else [text]
        outputs = []
        for part in parts:
            cid, prop = part.rsplit(".", 1)
            outputs.append((cid, prop.split("@", 1)[0]))
        deps = [Dep(section, k, x["id"], x["property"])
                for section in ("inputs", "state") for k, x in enumerate(d[section])]
        out.append(Spec(text, tuple(outputs), tuple(deps)))
    return out


def _pattern_id(pattern: dict, index) -> dict:
    return {k: (index if isinstance(v, list) else v) for k, v in pattern.items()}


def _changed_id(dep: Dep, index=1) -> str:
    if dep.is_pattern:
        cid = json.dumps(_pattern_id(dep.id, index), sort_keys=True, separators=(",", ":"))
    else:
        cid = dep.id
    return f"{cid}.{dep.property}"


def body(spec: Spec, values: dict[Dep, object] | None = None, trigger: Dep | None = None,
         index=1, raw: dict[Dep, object] | None = None) -> dict:
    """The request body: every dependency ``None`` (a pattern one: one matching component with
    value ``None``) unless ``values`` says otherwise; ``raw`` replaces a dependency's whole entry
    (the client's shape itself); ``trigger`` (default: the first input) is the changed property."""
    values, raw = values or {}, raw or {}
    sections = {"inputs": [], "state": []}
    for dep in spec.deps:
        if dep in raw:
            entry = raw[dep]
        elif dep.is_pattern:
            entry = [{"id": _pattern_id(dep.id, index), "property": dep.property, "value": values.get(dep)}]
        else:
            entry = {"id": dep.id, "property": dep.property, "value": values.get(dep)}
        sections[dep.section].append(entry)
    trigger = trigger or spec.deps[0]
    return {"output": spec.output, "outputs": [{"id": c, "property": p} for c, p in spec.outputs]
            if len(spec.outputs) > 1 or spec.output.startswith("..") else
            {"id": spec.outputs[0][0], "property": spec.outputs[0][1]},
            "inputs": sections["inputs"], "state": sections["state"], "changedPropIds": [_changed_id(trigger, index)]}


def dep(spec: Spec, component: str, prop: str) -> Dep:
    """The dependency of ``spec`` on ``component`` (an id, or a pattern id's type) and ``prop``."""
    for d in spec.deps:
        cid = d.id if isinstance(d.id, str) else d.id.get("type")
        if cid == component and d.property == prop:
            return d
    raise KeyError(f"{spec.name} has no dependency {component}.{prop}")


def answer_text(resp) -> str:
    """Everything a callback answered (outputs and side updates) as one JSON text."""
    return resp.get_data(as_text=True)
