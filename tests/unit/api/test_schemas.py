"""The API's submit schema repeats the numeric fields of the one form declaration; they must agree."""
from app.api.v1 import schemas
from app.api.v1.problems import flatten


def test_submit_schema_numbers_match_the_form_fields():
    from app.backtest.requests import FIELDS, LIMITS, ChoiceField, NumberField

    numbers = {k: (f.label, f.lo, f.hi, f.integer) for k, f in FIELDS.items() if isinstance(f, NumberField)}
    assert schemas.NUMBER_FIELDS == numbers
    assert set(schemas.CHOICE_FIELDS) == {k for k, f in FIELDS.items() if isinstance(f, ChoiceField)}
    assert (schemas.MAX_SYMBOLS, schemas.MAX_STRATEGIES) == (LIMITS["max_symbols"], LIMITS["max_strategies"])
    declared = set(schemas.BacktestRequestSchema().fields)
    assert set(FIELDS) <= declared and {"symbols", "start", "end", "strategy", "params", "strategies"} <= declared


def test_validation_messages_flatten_to_one_error_per_field():
    nested = {"query": {"limit": ["Must be greater than or equal to 1."], "symbol": ["Missing data."]},
              "json": {"params": {"fast": {"value": ["Not a valid number."]}}}}
    assert flatten(nested) == [
        {"field": "query.limit", "message": "Must be greater than or equal to 1."},
        {"field": "query.symbol", "message": "Missing data."},
        {"field": "json.params.fast.value", "message": "Not a valid number."},
    ]
