"""``GET /api/v1/me``: who the token belongs to and what it may do."""
from __future__ import annotations

from flask import g
from app.api.v1.auth import current_api_user, require, resource_blueprint
from app.api.v1.schemas import MeSchema
from app.models.api_token import TOKEN_SCOPES

blp = resource_blueprint("me", __name__, "/api/v1/me", "The token's user and scopes")


@blp.get("")
@blp.response(200, MeSchema)
@require("read")
def me():
    user = current_api_user()
    return {"id": user.id, "email": user.email, "role": user.role, "token_id": g.api_token_id,
            "scopes": [s for s in TOKEN_SCOPES if s in g.api_scopes]}
