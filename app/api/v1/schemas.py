"""Request and response schemas of ``/api/v1``, declared once: validation, serialisation and the OpenAPI document."""
from __future__ import annotations

import marshmallow as ma


class Schema(ma.Schema):
    class Meta:
        ordered = True


class MeSchema(Schema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    scopes = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "what this token may do now"})
    token_id = ma.fields.Integer(required=True)
