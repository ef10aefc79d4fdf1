"""Shared set-up for the alert integration tests: a user, channel settings, candles, a rule."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pandas as pd

from tests.fakes.candles import make_candles

SECRET = "hook-secret-for-tests-0123"
SYMBOL, EXCHANGE, TF = "BTC/USDT", "demo", "1h"


def crossing_candles(n: int = 300, now: datetime | None = None, last: float = 101.0) -> pd.DataFrame:
    """``n`` closed 1 h bars ending before ``now``; the last two closes 99 -> ``last`` (crossing 100 up)."""
    now = now or datetime.now(timezone.utc)
    end = pd.Timestamp(now).floor("1h") - pd.Timedelta(hours=1)  # the last *closed* bar's open time
    c = make_candles(n, start=(end - pd.Timedelta(hours=n - 1)).isoformat(), freq_s=3600, seed=5, price=95.0)
    c["close"] = c["close"].clip(upper=98.0)
    c["open"] = c["open"].clip(upper=98.0)
    c["high"] = c[["open", "close"]].max(axis=1) + 0.1
    c["low"] = c[["open", "close"]].min(axis=1) - 0.1
    for i, price in ((-2, 99.0), (-1, last)):
        c.iloc[i, :4] = [price, price + 0.2, price - 0.2, price]
    return c


def add_candles(session, candles: pd.DataFrame, symbol: str = SYMBOL) -> None:
    from app.market import store

    sid = store.get_or_create_series(session, EXCHANGE, symbol, TF)
    store.upsert_candles(session, sid, candles)


def add_user(session, email: str = "alice@example.com", role: str = "trader") -> int:
    from app.models import User

    u = User(email=email, role=role)
    u.set_password("correct-horse-battery")
    session.add(u)
    session.flush()
    return u.id


def add_channels(session, settings, user_id: int, *, webhook_url=None, chat_id=None, email=None, **kw) -> None:
    from app.alerts.secrets import encrypt, fernet_key
    from app.models import NotificationSettings

    session.add(NotificationSettings(
        user_id=user_id, webhook_url=webhook_url, telegram_chat_id=chat_id, email=email, webhook_format="json",
        webhook_secret_enc=encrypt(fernet_key(settings.alerts_key, settings.secret_key), SECRET), **kw))


def add_rule(session, user_id: int, channels=("inapp", "webhook"), **kw) -> int:
    from app.models import AlertRule

    fields = dict(name="BTC over 100", exchange=EXCHANGE, symbol=SYMBOL, timeframe=TF, kind="price_cross_up",
                  params={"level": 100.0}, channels=list(channels), frequency="once_per_bar", cooldown_s=0)
    fields.update(kw)
    rule = AlertRule(user_id=user_id, **fields)
    session.add(rule)
    session.flush()
    return rule.id


def wait_until(predicate, timeout: float = 60.0, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def deliveries(session) -> dict[str, tuple[str, int]]:
    from sqlalchemy import text

    session.rollback()
    rows = session.execute(text("SELECT channel, status, attempts FROM alert_deliveries ORDER BY id")).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def attempts(session, channel: str) -> list[tuple[str, int | None]]:
    from sqlalchemy import text

    session.rollback()
    return [tuple(r) for r in session.execute(text(
        "SELECT a.status, a.response_code FROM alert_attempts a JOIN alert_deliveries d ON d.id = a.delivery_id "
        "WHERE d.channel = :c ORDER BY a.id"), {"c": channel}).all()]
