"""app.validation: strict parsers for client values (finding 11: no coercion, a message naming the field)."""
import math

import pytest

from app.validation import (MAX_ID, Choice, Integer, InvalidInput, Schema, Text, boolean, choice, clicks, integer,
                            job_id, listing, mapping, record_id, record_ids, text, triggered)


def refused(parse, value, *args, **kwargs) -> str:
    with pytest.raises(InvalidInput) as err:
        parse(value, *args, **kwargs)
    return str(err.value)


@pytest.mark.parametrize("value, message", [
    (["1h", "1m"], "Timeframe must be text, got a list."),
    ({"tf": "1h"}, "Timeframe must be text, got a mapping."),
    (True, "Timeframe must be text, got true/false."),
    (60, "Timeframe must be text, got a number."),
    ("x" * 201, "Timeframe holds 201 characters; at most 200."),
    (None, "Timeframe is required."),
])
def test_finding_11_text_refuses_other_types(value, message):
    assert refused(text, value, "Timeframe") == message


def test_text_passes_text_and_optional_empties():
    assert text("1h", "Timeframe") == "1h"
    assert text(None, "Timeframe", optional=True) is None and text("", "Timeframe", optional=True) is None


def test_finding_11_choice_does_not_unwrap_a_list_holding_an_option():
    assert "must be text, got a list" in refused(choice, ["ma_cross"], "Strategy", ["ma_cross"])
    assert refused(choice, "maybe", "Entry", ["cross", "state"]) == "Entry must be one of cross, state; got 'maybe'."
    assert choice("state", "Entry", ["cross", "state"]) == "state"


@pytest.mark.parametrize("value, message", [
    (True, "Max epochs must be a whole number, got True."),
    (False, "Max epochs must be a whole number, got False."),
    (math.inf, "Max epochs must be finite, got inf."),
    (math.nan, "Max epochs must be finite, got nan."),
    ("inf", "Max epochs must be a whole number, got 'inf'."),
    (2.5, "Max epochs must be a whole number, got 2.5."),
    ("1e3", "Max epochs must be a whole number, got '1e3'."),
    ([3], "Max epochs must be a whole number, got a list."),
    (201, "Max epochs must be a whole number from 1 to 200, got 201."),
    (0, "Max epochs must be a whole number from 1 to 200, got 0."),
])
def test_finding_11_integer_is_strict(value, message):
    assert refused(integer, value, "Max epochs", minimum=1, maximum=200) == message


def test_boolean_is_a_switch_value_only():
    assert boolean(True, "Pause") is True and boolean(False, "Pause") is False and boolean(None, "Pause") is False
    for value, kind in (("maybe", "text"), ("false", "text"), (1, "a number"), (0, "a number"), ([True], "a list")):
        assert refused(boolean, value, "Pause") == f"Pause must be true or false, got {kind}."
    assert refused(boolean, None, "Pause", optional=False) == "Pause must be true or false, got nothing."


def test_integer_accepts_ints_integral_floats_and_digit_text():
    assert integer(7, "n") == 7 and integer(7.0, "n") == 7 and integer(" 12 ", "n") == 12
    assert integer(None, "n", optional=True) is None


def test_finding_11_record_ids_are_positive_bigints():
    assert record_id("42", "Run id") == 42
    assert "from 1 to" in refused(record_id, MAX_ID + 1, "Run id")
    assert "from 1 to" in refused(record_id, 10 ** 30, "Run id")
    assert refused(record_id, "1; drop", "Run id") == "Run id must be a whole number, got '1; drop'."
    assert refused(record_id, "abc", "User id") == "User id must be a whole number, got 'abc'."
    assert record_ids(None, "Runs") == [] and record_ids([1, "2"], "Runs") == [1, 2]
    assert refused(record_ids, "12", "Followed run ids") == "Followed run ids must be a list, got text."
    assert refused(record_ids, [1, True], "Runs") == "Runs[1] must be a whole number, got True."


def test_containers_and_clicks():
    assert mapping(None, "Cell") == {} and refused(mapping, [1], "Cell") == "Cell must be a mapping, got a list."
    assert "at most 3" in refused(listing, [1, 2, 3, 4], "Ids", max_items=3)
    assert clicks([None, 2], "Buttons") == [0, 2]
    assert refused(clicks, {"a": 1}, "Buttons") == "Buttons must be a list, got a mapping."
    assert refused(clicks, [True], "Buttons") == "Buttons[0] must be a whole number, got True."


def test_job_ids_and_triggered_buttons():
    assert job_id("3f1c-9a_b", "Job") == "3f1c-9a_b" and job_id(None, "Job") is None
    assert refused(job_id, ["abc"], "Job") == "Job must be text, got a list."
    assert "is not valid" in refused(job_id, "../../x", "Job")
    assert triggered({"type": "a", "index": 3}, "User", ("a", "b")) == ("a", 3)
    for bad in ({"type": "c", "index": 3}, {"type": "a"}, "a", None, {"type": "a", "index": 1, "x": 2}):
        assert "not one of this page's" in refused(triggered, bad, "User", ("a", "b"))


def test_schema_checks_every_field_in_order_and_names_the_failing_one():
    schema = Schema(timeframe=Choice("Timeframe", ["1m", "1h"]), epochs=Integer("Max epochs", minimum=1),
                    note=Text("Note", optional=True))
    assert schema("1h", "3", None) == ("1h", 3, None)
    with pytest.raises(InvalidInput) as err:
        schema("1h", True, None)
    assert err.value.field == "Max epochs" and "got True" in err.value.message
    assert schema.describe()["timeframe"] == {"title": "Timeframe", "type": "choice", "options": ["1m", "1h"]}
    with pytest.raises(TypeError):
        schema("1h")
