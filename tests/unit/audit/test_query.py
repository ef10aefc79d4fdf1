"""app.audit.query: the filter validates eagerly; CSV cells cannot run as spreadsheet formulas."""
import csv
import io
from datetime import datetime, timezone

import pytest

from app.audit.query import CSV_COLUMNS, AuditFilter, to_csv
from app.models.audit import AuditEvent


@pytest.mark.parametrize("kwargs, field", [
    ({"action": "nope"}, "action"), ({"text": "x" * 255}, "text"),
    ({"since": datetime(2026, 1, 1)}, "since"), ({"limit": 0}, "limit"), ({"limit": 10_001}, "limit"),
])
def test_bad_filters_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        AuditFilter(**kwargs)


def test_areas_and_actions_are_accepted():
    assert AuditFilter(action="user").action == "user"
    assert AuditFilter(action="system.stop").action == "system.stop"


def test_csv_has_the_columns_and_neutralises_formulas():
    at = datetime(2026, 12, 2, 1, 2, 3, tzinfo=timezone.utc)
    rows = [AuditEvent(id=1, at=at, actor_email="=HYPERLINK(\"x\")", actor_id=None, ip="1.2.3.4",
                       action="sign_in.failure", target=None, before=None, after={"reason": "Wrong"})]
    parsed = list(csv.reader(io.StringIO(to_csv(rows))))
    assert tuple(parsed[0]) == CSV_COLUMNS
    record = dict(zip(CSV_COLUMNS, parsed[1]))
    assert record["actor_email"] == "'=HYPERLINK(\"x\")"
    assert record["at"] == "2026-12-02T01:02:03+00:00" and record["after"] == '{"reason": "Wrong"}'
