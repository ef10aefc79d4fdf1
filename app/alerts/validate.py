"""Rules and notification settings from a form: cleaned values, or an ``AlertInputError`` naming the
field (and nothing saved)."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.alerts.errors import AlertInputError
from app.alerts.kinds import KINDS, Param
from app.alerts.ssrf import check_url
from app.marketdata import TIMEFRAMES, validate_symbol
from app.models.alert import FREQUENCIES

CHANNELS = ("inapp", "telegram", "email", "webhook")
WEBHOOK_FORMATS = ("json", "discord", "slack")
MAX_COOLDOWN_S = 30 * 24 * 3600
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _param(kind: str, name: str, spec: Param, raw):
    field = f"params.{name}"
    if raw is None or raw == "":
        if spec.default is not None:
            return spec.default
        if not spec.required:
            return None
        raise AlertInputError(field, f"is required for {KINDS[kind].label}")
    if spec.type in ("number", "int"):
        if isinstance(raw, bool):
            raise AlertInputError(field, "must be a number")
        try:
            value = float(raw) if spec.type == "number" else _whole(raw)
        except (TypeError, ValueError):
            raise AlertInputError(field, f"must be a {'whole ' if spec.type == 'int' else ''}number, got {raw!r}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise AlertInputError(field, "must be a finite number")
        if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
            raise AlertInputError(field, f"must be between {spec.low:g} and {spec.high:g}, got {value:g}")
        return value
    choices = spec.choices
    if raw not in choices and str(raw) in {str(c) for c in choices}:
        raw = next(c for c in choices if str(c) == str(raw))
    if raw not in choices:
        raise AlertInputError(field, f"must be one of {', '.join(map(str, choices))}, got {raw!r}")
    return raw


def _whole(raw) -> int:
    if isinstance(raw, float) and not raw.is_integer():
        raise ValueError
    if isinstance(raw, str) and not re.fullmatch(r"-?\d+", raw.strip()):
        raise ValueError
    return int(raw)


def hhmm(field: str, raw) -> str | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str) or not _HHMM.match(raw.strip()):
        raise AlertInputError(field, f"must be a time HH:MM (24 h), got {raw!r}")
    return raw.strip()


def _text(form: dict, field: str, default: str = "") -> str:
    """``form[field]`` as stripped text (``default`` when absent or empty); anything but text is refused."""
    raw = form.get(field)
    if raw is None or raw == "":
        return default
    if not isinstance(raw, str):
        raise AlertInputError(field, f"must be text, got {type(raw).__name__}")
    return raw.strip()


def _one_of(form: dict, field: str, choices, default: str | None = None):
    raw = form.get(field) or default
    if not isinstance(raw, str) or raw not in choices:
        raise AlertInputError(field, f"must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def validate_rule(form: dict, *, symbols: list[str] | tuple[str, ...], has_champion=None,
                  now: datetime | None = None) -> dict:
    """A rule's columns from ``form``; ``symbols``: the symbols that exist (stored or watch-listed).

    ``symbol`` empty or ``"*"`` means the whole watch-list. ``has_champion(symbol, tf)`` answers for
    LSTM rules (the form says so when no champion exists).
    """
    if not isinstance(form, dict):
        raise AlertInputError("form", f"must be a mapping of fields, got {type(form).__name__}")
    name = _text(form, "name")
    if not name or len(name) > 120:
        raise AlertInputError("name", "enter a name of 1 to 120 characters")
    raw_symbol = _text(form, "symbol")
    if raw_symbol in ("", "*"):
        symbol = None
    else:
        try:
            symbol = validate_symbol(raw_symbol)
        except ValueError as exc:
            raise AlertInputError("symbol", str(exc)) from None
        if symbol not in symbols:
            raise AlertInputError("symbol", f"unknown symbol {symbol}; known: {', '.join(symbols) or 'none'}")
    timeframe = _one_of(form, "timeframe", TIMEFRAMES)
    kind = _one_of(form, "kind", KINDS)
    raw_params = form.get("params") or {}
    if not isinstance(raw_params, dict):
        raise AlertInputError("params", "must be a mapping of parameter names to values")
    unknown = set(raw_params) - set(KINDS[kind].params)
    if unknown:
        raise AlertInputError(f"params.{sorted(map(str, unknown))[0]}", f"is not a parameter of {KINDS[kind].label}")
    params = {n: _param(kind, n, spec, raw_params.get(n)) for n, spec in KINDS[kind].params.items()}
    if kind == "lstm_cross" and has_champion is not None:
        for s in ([symbol] if symbol else symbols):
            if not has_champion(s, timeframe):
                raise AlertInputError("kind", f"no champion LSTM model exists for {s} {timeframe}; train one first")
    channels = form.get("channels") or ["inapp"]
    if isinstance(channels, str):
        channels = [channels]
    bad = [c for c in channels if c not in CHANNELS]
    if bad:
        raise AlertInputError("channels", f"unknown channel {bad[0]!r}; choose from {', '.join(CHANNELS)}")
    frequency = _one_of(form, "frequency", FREQUENCIES, default="once_per_bar")
    raw_cd = form.get("cooldown_s", 0)
    try:
        cooldown = _whole(raw_cd if raw_cd not in (None, "") else 0)
    except (TypeError, ValueError):
        raise AlertInputError("cooldown_s", f"must be a whole number of seconds, got {raw_cd!r}") from None
    if isinstance(raw_cd, bool) or not 0 <= cooldown <= MAX_COOLDOWN_S:
        raise AlertInputError("cooldown_s", f"must be from 0 to {MAX_COOLDOWN_S} seconds, got {raw_cd!r}")
    qs, qe = hhmm("quiet_start", form.get("quiet_start")), hhmm("quiet_end", form.get("quiet_end"))
    if (qs is None) != (qe is None):
        raise AlertInputError("quiet_end" if qe is None else "quiet_start", "set both ends of the quiet hours, or neither")
    expires = form.get("expires_at")
    if expires in (None, ""):
        expires_at = None
    else:
        try:
            expires_at = expires if isinstance(expires, datetime) else datetime.fromisoformat(str(expires))
        except ValueError:
            raise AlertInputError("expires_at", f"must be a date and time (ISO 8601), got {expires!r}") from None
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=timezone.utc)
        if expires_at <= (now or datetime.now(timezone.utc)):
            raise AlertInputError("expires_at", "must be in the future")
    return {"name": name, "symbol": symbol, "timeframe": timeframe, "kind": kind, "params": params,
            "channels": list(dict.fromkeys(channels)), "frequency": frequency, "cooldown_s": cooldown,
            "quiet_start": qs, "quiet_end": qe, "expires_at": expires_at, "paused": bool(form.get("paused", False))}


def validate_settings(form: dict, *, allow_loopback: bool) -> dict:
    """Notification settings (the webhook secret is returned in clear; the caller encrypts it)."""
    if not isinstance(form, dict):
        raise AlertInputError("form", f"must be a mapping of fields, got {type(form).__name__}")
    tz = _text(form, "timezone", "UTC") or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file name
        raise AlertInputError("timezone", f"unknown time zone {tz!r} (e.g. Europe/Berlin)") from None
    qs, qe = hhmm("quiet_start", form.get("quiet_start")), hhmm("quiet_end", form.get("quiet_end"))
    if (qs is None) != (qe is None):
        raise AlertInputError("quiet_end" if qe is None else "quiet_start", "set both ends of the quiet hours, or neither")
    email = _text(form, "email") or None
    if email is not None and (len(email) > 254 or not _EMAIL.match(email)):
        raise AlertInputError("email", f"{email!r} is not an e-mail address with a domain")
    chat = _text(form, "telegram_chat_id") or None
    if chat is not None and not re.fullmatch(r"-?\d{1,20}|@[A-Za-z0-9_]{5,32}", chat):
        raise AlertInputError("telegram_chat_id", "must be a numeric chat id or @channelname")
    url = _text(form, "webhook_url") or None
    if url is not None:
        url = check_url(url, allow_loopback=allow_loopback)
    fmt = _one_of(form, "webhook_format", WEBHOOK_FORMATS, default="json")
    secret = form.get("webhook_secret")
    if secret not in (None, "") and (not isinstance(secret, str) or not 16 <= len(secret) <= 256):
        raise AlertInputError("webhook_secret", "must be 16 to 256 characters")
    return {"timezone": tz, "quiet_start": qs, "quiet_end": qe, "email": email, "telegram_chat_id": chat,
            "webhook_url": url, "webhook_format": fmt, "webhook_secret": secret or None,
            "alerts_paused": bool(form.get("alerts_paused", False))}
