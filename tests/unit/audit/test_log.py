"""app.audit.log: events are validated eagerly and never carry a secret."""
from datetime import datetime, timezone

import pytest

from app.audit.log import REDACTED, Actor, record, scrub


class ListSession(list):
    add = list.append


def test_scrub_redacts_secret_keys_at_any_depth():
    doc = {"role": "admin", "password": "hunter2hunter2", "nested": {"api_token": "t0k", "ok": 1},
           "items": [{"secret_key": "s"}], "one_time_password": "x", "api_key": "k", "keys_removed": 3}
    out = scrub(doc)
    assert out == {"role": "admin", "password": REDACTED, "nested": {"api_token": REDACTED, "ok": 1},
                   "items": [{"secret_key": REDACTED}], "one_time_password": REDACTED, "api_key": REDACTED,
                   "keys_removed": 3}
    assert doc["password"] == "hunter2hunter2"  # the caller's dict is not changed


def test_record_adds_a_scrubbed_row_without_committing():
    session = ListSession()
    at = datetime(2026, 12, 2, 1, 0, tzinfo=timezone.utc)
    row = record(session, "user.password_reset", Actor("a@example.com", 1, "10.0.0.1"), target="t@example.com",
                 after={"new_password": "Secret-Value-123"}, now=at)
    assert session == [row]
    assert (row.actor_email, row.actor_id, row.ip, row.action, row.at) == (
        "a@example.com", 1, "10.0.0.1", "user.password_reset", at)
    assert row.after == {"new_password": REDACTED}


@pytest.mark.parametrize("action, actor, field", [
    ("user.explode", Actor("a@example.com"), "action"),
    ("user.create", None, "actor"),
    ("user.create", Actor(""), "actor"),
])
def test_bad_events_name_the_field(action, actor, field):
    session = ListSession()
    with pytest.raises(ValueError, match=field):
        record(session, action, actor)
    assert session == []


def test_actor_of_the_command_line():
    assert Actor.of(None) == Actor("cli", None, None)
