"""The view pattern the owner-scoped resources share (alert rules, portfolios, settings).

Every write either commits what the domain function did or rolls it back and answers with a problem:
a row the token's owner does not have is a 404 (exactly like an unknown id, so ids leak nothing), a
refused input a 422 naming the field. :func:`committed` runs a domain call, shapes its result and
commits, so a view is one line between the schema and the domain.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from flask import g
from flask_smorest import abort

from app.extensions import db

T = TypeVar("T")


def user_id() -> int:
    """The token owner's id (set by the blueprint's authentication)."""
    return g.api_user_id


def missing(what: str, id_) -> None:
    """Roll back and answer 404 ``no <what> <id>`` (never 403: another user's row looks unknown)."""
    db.session.rollback()
    abort(404, message=f"no {what} {id_}")


def refuse(field: str, message: str, detail: str | None = None, where: str = "json") -> None:
    """Roll back and answer 422 with one field error ``<where>.<field>``."""
    db.session.rollback()
    abort(422, message=detail if detail is not None else f"{field}: {message}",
          errors=[{"field": f"{where}.{field}", "message": message}])


def committed(read: Callable[[], T]) -> T:
    """``read()`` then commit (reads end their transaction too, so no connection idles in one)."""
    out = read()
    db.session.commit()
    return out
