"""RFC 9457 problem details for every error under ``/api/v1``.

flask-smorest registers one handler for ``HTTPException`` on the whole server; :class:`ProblemApi`
answers with ``application/problem+json`` for API paths and leaves every other path to Flask's
own handling (Dash pages, the login form and downloads keep their responses). Validation errors
(webargs' 422) become one ``errors`` item per field: ``{"field": "query.limit", "message": ...}``.
"""
from __future__ import annotations

import http

import marshmallow as ma
from flask import json, request
from flask_smorest import Api

API_PREFIX = "/api/v1"
PROBLEM_TYPE = "application/problem+json"


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(required=True, metadata={"description": "where: query.limit, json.symbols, ..."})
    message = ma.fields.String(required=True)


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem document."""

    type = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema))


def is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def flatten(messages, where: str = "") -> list[dict]:
    """webargs/marshmallow's nested ``{location: {field: [messages]}}`` as a flat list of field errors."""
    out: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            out += flatten(value, f"{where}.{key}" if where else str(key))
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            out += [{"field": where or "request", "message": m} for m in messages]
        else:
            for m in messages:
                out += flatten(m, where)
    else:
        out.append({"field": where or "request", "message": str(messages)})
    return out


def problem_response(status: int, title: str, detail: str | None = None, errors: list[dict] | None = None,
                     headers: dict | None = None):
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    from flask import current_app

    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    response.headers["Cache-Control"] = "no-store"
    for k, v in (headers or {}).items():
        response.headers[k] = v
    return response


def to_problem(error):
    """The problem+json response for an ``HTTPException`` raised while serving an API path."""
    data = getattr(error, "data", None) or {}
    errors = None
    if "errors" in data:
        errors = data["errors"] if isinstance(data["errors"], list) else flatten(data["errors"])
    elif "messages" in data:
        errors = flatten(data["messages"])
    detail = data.get("message") or (error.description if error.code != 500 else "internal error")
    if error.code == 422 and errors:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    headers = dict(data.get("headers") or {})
    for name in ("Retry-After", "WWW-Authenticate", "Allow"):
        value = error.get_response().headers.get(name) if hasattr(error, "get_response") else None
        if value and name not in headers:
            headers[name] = value
    return problem_response(error.code or 500, error.name, detail, errors, headers)


class ProblemApi(Api):
    """flask-smorest's Api, with errors as RFC 9457 problems in the responses and in the document."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        """The default responses flask-smorest references (``DEFAULT_ERROR``, ``UNPROCESSABLE_ENTITY``, ...),
        documented with the ``application/problem+json`` media type the errors are sent with."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM_TYPE: {"schema": self.ERROR_SCHEMA}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response("DEFAULT_ERROR", {"description": "Default error response", "content": {
            PROBLEM_TYPE: {"schema": self.ERROR_SCHEMA}}}, lazy=True)

    def handle_http_exception(self, error):
        if not is_api_path(request.path):
            return error  # Flask renders it as it would without this API
        return to_problem(error)
