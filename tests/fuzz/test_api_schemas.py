"""Every schema of ``/api/v1`` (``app.api.v1.schemas``, marshmallow): any body or query is either refused with
a ``ValidationError`` whose messages name the fields, or loads into values of the declared types; and what a
request schema lets through is then refused naming its field, or valid, by the domain validation behind it."""
from __future__ import annotations

import math
from datetime import datetime, timezone

import marshmallow as ma
import pytest
from hypothesis import example, given, strategies as st

from app.alerts.errors import AlertInputError
from app.alerts.validate import validate_rule
from app.api.v1 import schemas
from app.portfolio.transactions import TransactionError, make_transaction
from tests.fuzz.conftest import junk

SCHEMAS = sorted({obj for obj in vars(schemas).values()
                  if isinstance(obj, type) and issubclass(obj, ma.Schema) and obj is not schemas.Schema},
                 key=lambda s: s.__name__)
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)

samples = st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01T00:00:00+05:30", "2026-01-01T00:00:00",
                           "2026-01-01", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "1h", "BTC/USDT",
                           "buy", "main", "json", "csv", "1", "-1", "0", "1e400", "NaN", "inf", "true", "admin", ""])
value = st.one_of(samples, junk, st.integers(), st.floats())


def bodies(schema: type[ma.Schema]):
    names = list(schema().fields)
    known = st.dictionaries(st.sampled_from(names), value, max_size=len(names)) if names else st.just({})
    return st.one_of(known, st.dictionaries(st.text(max_size=8), value, max_size=3),
                     st.tuples(known, st.dictionaries(st.text(max_size=8), value, max_size=2))
                       .map(lambda kv: {**kv[1], **kv[0]}), junk)


def _check_loaded(schema: ma.Schema, data: dict) -> None:
    assert set(data) <= set(schema.fields)
    for name, val in data.items():
        field = schema.fields[name]
        if val is None:
            continue
        if isinstance(field, ma.fields.Float):
            assert isinstance(val, float) and math.isfinite(val), (name, val)
        elif isinstance(field, ma.fields.Integer):
            assert isinstance(val, int) and not isinstance(val, bool), (name, val)
        elif isinstance(field, ma.fields.String):
            assert isinstance(val, str), (name, val)
        elif isinstance(field, ma.fields.AwareDateTime):
            assert isinstance(val, datetime) and val.tzinfo is not None, (name, val)


def _assert_names_fields(schema: ma.Schema, body, exc: ma.ValidationError) -> None:
    messages = exc.messages
    assert messages
    if isinstance(messages, dict):
        extra = set(body) if isinstance(body, dict) else set()
        assert set(messages) <= set(schema.fields) | {"_schema"} | extra, messages


@pytest.mark.parametrize("schema_cls", SCHEMAS, ids=lambda s: s.__name__)
def test_every_schema_refuses_naming_the_field_or_loads_typed_values(schema_cls):
    @given(bodies(schema_cls))
    def check(body):
        schema = schema_cls()
        try:
            data = schema.load(body)
        except ma.ValidationError as exc:
            _assert_names_fields(schema, body, exc)
            return
        _check_loaded(schema, data)

    check()


@given(bodies(schemas.TransactionRequestSchema))
def test_a_transaction_the_schema_lets_through_is_refused_naming_its_field_or_valid(body):
    try:
        data = schemas.TransactionRequestSchema().load(body)
    except ma.ValidationError:
        return
    data.pop("portfolio")
    try:
        t = make_transaction(known_assets=["BTC/USDT"], now=NOW, **data)
    except TransactionError as exc:
        assert exc.field in schemas.TransactionRequestSchema().fields, exc.field
        return
    assert t.time.utcoffset().total_seconds() == 0 and t.quantity > 0


@given(bodies(schemas.AlertRuleRequestSchema))
def test_a_rule_the_schema_lets_through_is_refused_naming_its_field_or_valid(body):
    try:
        data = schemas.AlertRuleRequestSchema().load(body)
    except ma.ValidationError:
        return
    try:
        rule = validate_rule(data, symbols=["BTC/USDT"], now=NOW)
    except AlertInputError as exc:
        assert exc.field.split(".")[0] in schemas.AlertRuleRequestSchema().fields, exc.field
        return
    assert rule["name"] == data["name"].strip()
