"""The audit actor of the current request: the signed-in user and the client address."""
from __future__ import annotations

from flask_login import current_user

from app.audit.log import Actor
from app.extensions import client_ip


def current_actor() -> Actor:
    if current_user.is_authenticated:
        return Actor(current_user.email, current_user.id, client_ip())
    return Actor("anonymous", None, client_ip())
