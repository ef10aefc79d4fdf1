"""Invalid rules and settings are refused with a message naming the field."""
from datetime import datetime, timedelta, timezone

import pytest

from app.alerts.errors import AlertInputError
from app.alerts.ssrf import check_url
from app.alerts.validate import validate_rule, validate_settings

SYMBOLS = ["BTC/USDT", "ETH/USDT"]


def good(**kw):
    form = {"name": "BTC breakout", "symbol": "BTC/USDT", "timeframe": "1h", "kind": "price_cross_up",
            "params": {"level": "65000"}, "channels": ["inapp", "webhook"], "frequency": "once_per_bar",
            "cooldown_s": "600"}
    form.update(kw)
    return form


def refused(form, field, **kw):
    with pytest.raises(AlertInputError) as exc:
        validate_rule(form, symbols=SYMBOLS, **kw)
    assert exc.value.field == field, exc.value
    return exc.value.message


def test_a_good_rule_is_cleaned():
    r = validate_rule(good(), symbols=SYMBOLS)
    assert r["params"] == {"level": 65000.0} and r["cooldown_s"] == 600 and r["symbol"] == "BTC/USDT"
    assert validate_rule(good(symbol="*"), symbols=SYMBOLS)["symbol"] is None  # the whole watch-list
    r = validate_rule(good(kind="ma_cross", params={"ma": "sma", "length": "200"}), symbols=SYMBOLS)
    assert r["params"] == {"ma": "sma", "length": 200, "direction": "up"}


def test_invalid_rules_name_the_field():
    assert "unknown symbol DOGE/USDT" in refused(good(symbol="DOGE/USDT"), "symbol")
    assert "number" in refused(good(params={"level": "sixty"}), "params.level")
    assert "number" in refused(good(params={"level": True}), "params.level")
    assert "between" in refused(good(kind="rsi_above", params={"level": 130}), "params.level")
    assert "whole" in refused(good(kind="percent_move", params={"pct": 5, "window": 2.5}), "params.window")
    assert refused(good(cooldown_s=-1), "cooldown_s")
    assert refused(good(cooldown_s="soon"), "cooldown_s")
    assert refused(good(timeframe="2h"), "timeframe")
    assert refused(good(kind="moon"), "kind")
    assert refused(good(channels=["pager"]), "channels")
    assert refused(good(frequency="hourly"), "frequency")
    assert refused(good(name=""), "name")
    assert refused(good(quiet_start="22:00"), "quiet_end")
    assert refused(good(quiet_start="25:00", quiet_end="07:00"), "quiet_start")
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    assert refused(good(expires_at=past), "expires_at")
    assert refused(good(params={"level": 1, "extra": 2}), "params.extra")


def test_lstm_rule_without_a_champion_is_refused_with_that_reason():
    form = good(kind="lstm_cross", params={"level": 0.6})
    msg = refused(form, "kind", has_champion=lambda s, tf: False)
    assert "no champion" in msg and "BTC/USDT 1h" in msg
    assert validate_rule(form, symbols=SYMBOLS, has_champion=lambda s, tf: True)["params"]["level"] == 0.6


def test_settings_validation():
    ok = validate_settings({"timezone": "Europe/Berlin", "email": "a@b.io", "telegram_chat_id": "-1001",
                            "webhook_url": "http://127.0.0.1:9/hook", "webhook_secret": "s" * 16}, allow_loopback=True)
    assert ok["timezone"] == "Europe/Berlin" and ok["webhook_url"] == "http://127.0.0.1:9/hook"
    for form, field in [({"email": "trader@localhost"}, "email"), ({"email": "no-at-sign"}, "email"),
                        ({"timezone": "Mars/Olympus"}, "timezone"), ({"telegram_chat_id": "12ab"}, "telegram_chat_id"),
                        ({"webhook_url": "ftp://x.io/h"}, "webhook_url"), ({"webhook_url": "http://"}, "webhook_url"),
                        ({"webhook_secret": "short"}, "webhook_secret"), ({"webhook_format": "xml"}, "webhook_format")]:
        with pytest.raises(AlertInputError) as exc:
            validate_settings(form, allow_loopback=True)
        assert exc.value.field == field


def _resolver(ip):
    return lambda host, port, proto=0: [(2, 1, 6, "", (ip, port))]


@pytest.mark.parametrize("ip", ["127.0.0.1", "10.1.2.3", "192.168.0.5", "169.254.169.254", "::1", "fd00::1", "0.0.0.0"])
def test_private_loopback_and_link_local_webhooks_are_refused_in_production(ip):
    with pytest.raises(AlertInputError) as exc:
        check_url("https://hook.example.com/x", allow_loopback=False, resolve=_resolver(ip))
    assert exc.value.field == "webhook_url" and "public" in exc.value.message


def test_loopback_allowed_only_when_the_setting_says_so_and_public_hosts_pass():
    assert check_url("http://localhost:8080/h", allow_loopback=True, resolve=_resolver("127.0.0.1"))
    with pytest.raises(AlertInputError):
        check_url("http://x.example/h", allow_loopback=True, resolve=_resolver("10.0.0.1"))  # private stays refused
    assert check_url("https://hooks.slack.com/x", allow_loopback=False, resolve=_resolver("34.1.2.3"))
    with pytest.raises(AlertInputError):
        check_url("http://user:pw@x.example/h", allow_loopback=False, resolve=_resolver("34.1.2.3"))
