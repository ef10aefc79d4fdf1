"""Alert rule parsing and validation (``app.alerts.validate``; ``app.alerts.rules.save_rule`` writes): any
form is refused with an ``AlertInputError`` naming its field, or gives a valid rule; a refusal writes nothing."""
from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import example, given, strategies as st

from app.alerts.errors import AlertInputError
from app.alerts.kinds import KINDS
from app.alerts.rules import save_rule
from app.alerts.validate import validate_rule, validate_settings
from app.extensions import db
from app.models import AlertRule, User
from tests.fuzz.conftest import junk, row_counts

SYMBOLS = ["BTC/USDT", "ETH/USDT"]
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
RULE_FIELDS = ("name", "symbol", "timeframe", "kind", "params", "channels", "frequency", "cooldown_s",
               "quiet_start", "quiet_end", "expires_at", "paused")
SETTINGS_FIELDS = ("timezone", "quiet_start", "quiet_end", "email", "telegram_chat_id", "webhook_url",
                   "webhook_format", "webhook_secret", "alerts_paused")


@st.composite
def rule_forms(draw):
    kind = draw(st.one_of(st.sampled_from(sorted(KINDS)), junk))
    form = {"name": "BTC breakout", "symbol": "BTC/USDT", "timeframe": "1h", "kind": kind,
            "params": {"level": "65000"}, "channels": ["inapp"], "frequency": "once_per_bar", "cooldown_s": "600"}
    for name in draw(st.lists(st.sampled_from(RULE_FIELDS), max_size=4, unique=True)):
        form[name] = draw(st.one_of(junk, st.sampled_from(["*", "12:00", "2030-01-01T00:00", "webhook", "1h"])))
    return form


def _field_of(exc: AlertInputError) -> str:
    return exc.field.split(".", 1)[0]


@given(rule_forms())
@example({"name": 5, "timeframe": "1h", "kind": "price_cross_up"})         # regression: AttributeError
@example({"name": "n", "symbol": ["BTC/USDT"], "timeframe": "1h"})       # regression: AttributeError
@example({"name": "n", "timeframe": {"1h": 1}, "kind": "price_cross_up"})  # regression: TypeError (unhashable)
@example({"name": "n", "timeframe": "1h", "kind": ["price_cross_up"]})   # regression: TypeError (unhashable)
@example({"name": "n", "timeframe": "1h", "kind": "price_cross_up", "params": {"level": "1"},
          "channels": [{"x": 1}]})
@example({"name": "n", "timeframe": "1h", "kind": "price_cross_up",
          "params": {1: "x", "a": "y"}})                                  # regression: TypeError (sorting mixed keys)
def test_a_rule_form_is_refused_naming_its_field_or_gives_a_valid_rule(form):
    try:
        rule = validate_rule(form, symbols=SYMBOLS, now=NOW)
    except AlertInputError as exc:
        assert _field_of(exc) in RULE_FIELDS and exc.message
        return
    assert isinstance(rule["name"], str) and 1 <= len(rule["name"]) <= 120
    assert rule["symbol"] in (None, *SYMBOLS)
    assert rule["kind"] in KINDS and set(rule["params"]) == set(KINDS[rule["kind"]].params)
    assert rule["expires_at"] is None or rule["expires_at"] > NOW


@given(st.fixed_dictionaries({}, optional={f: st.one_of(junk, st.sampled_from(
    ["Europe/Berlin", "../../etc/passwd", "x" * 300, "a@b.example", "@channel_name", "https://example.com/h",
     "json", "07:00", "s" * 20])) for f in SETTINGS_FIELDS}))
@example({"timezone": 5})                 # regression: AttributeError
@example({"timezone": "x" * 300})          # regression: OSError (file name too long) from zoneinfo
@example({"email": ["a@b.example"]})      # regression: AttributeError
@example({"webhook_format": ["json"]})
def test_notification_settings_are_refused_naming_their_field_or_come_back_valid(form):
    try:
        clean = validate_settings(form, allow_loopback=False)
    except AlertInputError as exc:
        assert _field_of(exc) in SETTINGS_FIELDS and exc.message
        return
    assert isinstance(clean["timezone"], str)
    assert clean["webhook_secret"] is None or 16 <= len(clean["webhook_secret"]) <= 256


@given(rule_forms())
def test_a_refused_rule_writes_nothing(sqlite_server, form):
    with sqlite_server.app_context():
        user = db.session.query(User).filter_by(email="fuzz-alerts@example.com").one_or_none()
        if user is None:
            from app.auth.users import create_user

            user = create_user("fuzz-alerts@example.com", "correct-horse-battery", role="trader")
            db.session.commit()
        before = row_counts(db.session, AlertRule)
        try:
            save_rule(db.session, user.id, form, exchange="demo", symbols=SYMBOLS, now=NOW)
        except AlertInputError:
            db.session.rollback()
            assert row_counts(db.session, AlertRule) == before
            return
        assert row_counts(db.session, AlertRule)[0] == before[0] + 1
        db.session.rollback()
