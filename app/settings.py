"""All configuration, read from the environment in one place.

Nothing else in Candlewise reads ``os.environ``: build a :class:`Settings`
with :meth:`Settings.from_env` (the factory does) or construct one directly
in tests.
"""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "dev-insecure-change-me"
ENVIRONMENTS = ("development", "testing", "production")
MARKET_SOURCES = ("auto", "binance", "coinbase", "kraken", "demo")


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected a boolean (1/0, true/false), got {value!r}")


def _int(name: str, value: str | None, default: int) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        return int(value.strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None


def _positive(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")


def _rate_limit(name: str, value) -> None:
    from limits import parse

    try:
        if not isinstance(value, str):
            raise ValueError
        parse(value)
    except ValueError:
        raise ValueError(f"{name} must be a rate like '5 per 15 minutes', got {value!r}") from None


def normalize_database_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg2 (SQLAlchemy 2.1 would pick psycopg 3)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def _list(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        return default
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _int(name: str, value: str | None, default: int) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {value!r}") from None


def _float(name: str, value: str | None, default: float) -> float:
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None


def _pairs(value: str | None) -> tuple[tuple[str, str], ...]:
    """``"ETH/USDT=csv, BTC/USDT=kraken"`` -> ``(("ETH/USDT", "csv"), ("BTC/USDT", "kraken"))``."""
    out = []
    for item in _list(value, ()):
        sym, sep, ex = item.partition("=")
        out.append((sym.strip().upper(), ex.strip().lower()) if sep else (item,))
    return tuple(out)


def _secret(environ: Mapping[str, str], name: str) -> str | None:
    """``NAME`` or the contents of the file named by ``NAME_FILE`` (Docker/compose secrets)."""
    path = environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip() or None
        except OSError as exc:
            raise ValueError(f"{name}_FILE={path!r} cannot be read: {exc.strerror}") from None
    return environ.get(name) or None


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    secret_key: str = DEFAULT_SECRET_KEY
    database_url: str = f"sqlite:///{ROOT / 'var' / 'candlewise.db'}"
    # None: embedded mode, jobs run in-process; set: real RQ workers on this Redis.
    redis_url: str | None = None
    redis_prefix: str = "cw"
    # Market data
    market_source: str = "auto"  # auto (Binance, else demo) | binance | coinbase | kraken | demo
    watchlist: tuple[str, ...] = ("BTC/USDT", "ETH/USDT")
    # Which exchange's series pages show for a symbol when several store it, e.g. (("ETH/USDT", "csv"),)
    # (DISPLAY_SERIES=ETH/USDT=csv); otherwise MARKET_DATA_SOURCE, then live > demo > imported files
    display_series: tuple[tuple[str, str], ...] = ()
    timeframes: tuple[str, ...] = ("1m", "5m", "15m", "1h", "4h", "1d")
    demo_days: int = 90
    demo_seed: int = 7
    binance_base_url: str = "https://api.binance.com"
    coinbase_base_url: str = "https://api.exchange.coinbase.com"
    kraken_base_url: str = "https://api.kraken.com"
    http_timeout_s: float = 10.0
    # Auth
    # Failed sign-ins per account and network (in this window) before each further failure adds a growing delay
    login_limit_account: str = "5 per 15 minutes"
    login_limit_ip: str = "20 per minute"
    # Failed sign-ins per account from browsers it never signed in from, over all networks
    login_limit_account_total: str = "50 per 15 minutes"
    login_delay_max_s: int = 60           # cap of the per-account delay (1 s, 2 s, 4 s, ... up to this)
    session_idle_minutes: int = 720       # a server-side session unused this long is ended
    session_cookie_secure: bool = False
    # /api/v1: requests per personal token (Flask-Limiter syntax); 429 with Retry-After beyond it
    api_rate_limit: str = "300 per minute"
    # Expensive actions per user (app.hot.action_limits; moving windows on the rate-limit storage): a single
    # backtest submitted, a batch submitted (several runs at once), an LSTM training started
    limit_backtest_submit: str = "60 per hour"
    limit_backtest_batch: str = "20 per hour"
    limit_model_training: str = "10 per hour"
    # Hardening (app.ops.security)
    max_request_bytes: int = 1024 * 1024  # larger request bodies are refused with 413
    create_demo_users: bool = True
    # Backtests (app.backtest.fairness): a user's runs queued or running at once (more are refused), and how
    # many of them sit on the shared backtests queue at a time (the rest wait their turn, oldest first)
    backtest_max_queued_per_user: int = 120
    backtest_max_active_per_user: int = 2
    # ML: versioned LSTM models (ml.registry)
    model_dir: str = str(ROOT / "var" / "models")
    # live A/B (app.mlops.live): scored live bars over which a champion's log loss is compared with the live
    # base rate and the challenger's; behind either, it is flagged on the Admin page
    ml_live_window: int = 200
    # UI
    refresh_ms: int = 5000
    # Operations (app/ops/metrics.py, app/ops/logs.py, deploy/gunicorn.conf.py, workers/run.py)
    # /metrics in production: a bearer token and/or client networks (CIDR) allowed without one.
    metrics_token: str | None = None
    metrics_allow_networks: tuple[str, ...] = ()
    # gunicorn's multi-process metrics directory (also read by prometheus_client itself).
    prometheus_multiproc_dir: str | None = None
    json_logs: bool = False
    log_level: str = "INFO"
    gunicorn_bind: str = "127.0.0.1:8050"
    gunicorn_workers: int = 2
    gunicorn_threads: int = 8
    # gunicorn's keep-alive must outlast nginx's upstream keepalive_timeout (deploy/nginx)
    gunicorn_keepalive_s: int = 75
    forwarded_allow_ips: str = "127.0.0.1"
    # RQ workers and rq cron run this much nicer (lower OS priority) than the web processes.
    worker_nice: int = 10
    # PDF reports: headless Chromium's print-to-PDF (app.figures.pdf)
    chromium_bin: str = "/usr/bin/chromium"
    pdf_timeout_s: int = 45  # under nginx's 60 s proxy read timeout, so a stuck print is a 503, not a 504
    # Alerts (app/alerts): Fernet key for secrets at rest (production requires one), outside channels
    alerts_key: str | None = None
    alerts_allow_loopback: bool = False  # webhooks to 127.0.0.1/::1 (development and tests only)
    telegram_bot_token: str | None = None
    telegram_base_url: str = "https://api.telegram.org"
    telegram_per_chat_per_min: int = 20
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "alerts@candlewise.local"
    smtp_starttls: bool = True
    webhook_timeout_s: float = 5.0
    # The WebSocket stream (app/stream, its own process; production mode only): where it listens, the
    # messages waiting per client before a slow client is disconnected, the heartbeat, the connection cap,
    # and how often a connection's token is checked again (revoked/expired tokens are cut off)
    stream_bind: str = "127.0.0.1:8060"
    stream_queue_max: int = 256
    stream_heartbeat_s: float = 20.0
    stream_max_connections: int = 5000
    stream_max_per_user: int = 20  # open connections of one user per stream process (more are closed with 4429)
    stream_recheck_s: float = 60.0
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "database_url", normalize_database_url(self.database_url))
        if self.env not in ENVIRONMENTS:
            raise ValueError(f"CANDLEWISE_ENV must be one of {ENVIRONMENTS}, got {self.env!r}")
        if self.market_source not in MARKET_SOURCES:
            raise ValueError(f"MARKET_DATA_SOURCE must be one of {', '.join(MARKET_SOURCES)}, "
                             f"got {self.market_source!r}")
        for name, limit in (("LOGIN_LIMIT_ACCOUNT", self.login_limit_account), ("LOGIN_LIMIT_IP", self.login_limit_ip),
                            ("LOGIN_LIMIT_ACCOUNT_TOTAL", self.login_limit_account_total),
                            ("API_RATE_LIMIT", self.api_rate_limit),
                            ("LIMIT_BACKTEST_SUBMIT", self.limit_backtest_submit),
                            ("LIMIT_BACKTEST_BATCH", self.limit_backtest_batch),
                            ("LIMIT_MODEL_TRAINING", self.limit_model_training)):
            _rate_limit(name, limit)
        _positive("LOGIN_DELAY_MAX_S", self.login_delay_max_s, 1, 86400)
        _positive("SESSION_IDLE_MINUTES", self.session_idle_minutes, 1, 60 * 24 * 90)
        _positive("MAX_REQUEST_BYTES", self.max_request_bytes, 64 * 1024, 512 * 1024 * 1024)
        _positive("PDF_TIMEOUT_S", self.pdf_timeout_s, 5, 600)
        for pair in self.display_series:
            if (not isinstance(pair, tuple) or len(pair) != 2 or not re.fullmatch(r"[A-Z0-9]+/[A-Z0-9]+", pair[0])
                    or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,31}", pair[1])):
                raise ValueError(f"DISPLAY_SERIES: expected SYMBOL=exchange pairs like ETH/USDT=csv, got {pair!r}")
        _positive("BACKTEST_MAX_QUEUED_PER_USER", self.backtest_max_queued_per_user, 1, 100_000)
        _positive("BACKTEST_MAX_ACTIVE_PER_USER", self.backtest_max_active_per_user, 1, 1000)
        _positive("ML_LIVE_WINDOW", self.ml_live_window, 20, 100_000)
        for net in self.metrics_allow_networks:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ValueError(f"METRICS_ALLOW_NETWORKS: {net!r} is not an IP network (e.g. 10.0.0.0/8)") from None
        if self.metrics_token is not None and len(self.metrics_token) < 16:
            raise ValueError("METRICS_TOKEN must be at least 16 characters")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {self.log_level!r}")
        if not 0 <= self.worker_nice <= 19:
            raise ValueError(f"WORKER_NICE must be between 0 and 19, got {self.worker_nice!r}")
        for name, value in (("GUNICORN_WORKERS", self.gunicorn_workers), ("GUNICORN_THREADS", self.gunicorn_threads),
                            ("GUNICORN_KEEPALIVE", self.gunicorn_keepalive_s)):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value!r}")
        _positive("STREAM_QUEUE_MAX", self.stream_queue_max, 1, 100_000)
        _positive("STREAM_MAX_CONNECTIONS", self.stream_max_connections, 1, 1_000_000)
        _positive("STREAM_MAX_PER_USER", self.stream_max_per_user, 1, 100_000)
        for name, value in (("STREAM_HEARTBEAT_S", self.stream_heartbeat_s), ("STREAM_RECHECK_S", self.stream_recheck_s)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.05 <= value <= 3600:
                raise ValueError(f"{name} must be a number of seconds from 0.05 to 3600, got {value!r}")
        if not re.fullmatch(r"[\w.\-\[\]:]*:\d{1,5}", self.stream_bind or ""):
            raise ValueError(f"STREAM_BIND must be HOST:PORT like 0.0.0.0:8060, got {self.stream_bind!r}")
        if self.production:
            if not self.secret_key or self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 16:
                raise ValueError(
                    "production refuses to start with the default or a short SECRET_KEY; "
                    "set SECRET_KEY to a random string of at least 16 characters"
                )
            if self.alerts_allow_loopback:
                raise ValueError("ALERTS_ALLOW_LOOPBACK is for development and tests; production refuses it")
        if self.alerts_key:
            from cryptography.fernet import Fernet

            try:
                Fernet(self.alerts_key.encode())
            except ValueError:
                raise ValueError("ALERTS_SECRET_KEY must be a Fernet key (32 url-safe base64-encoded bytes)") from None

    def require_alerts_key(self) -> None:
        """Production refuses to start (``create_server``) without its own key for secrets at rest."""
        if self.production and not self.alerts_key:
            raise ValueError("production refuses to start without ALERTS_SECRET_KEY (a Fernet key: "
                             "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')")

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: jobs run in-process."""
        return not self.redis_url

    @property
    def sqlite_path(self) -> Path | None:
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url[len("sqlite:///"):])
        return None

    @property
    def ratelimit_storage_uri(self) -> str:
        return self.redis_url or "memory://"

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        e = os.environ if environ is None else environ
        d = cls()
        env = e.get("CANDLEWISE_ENV", d.env)
        db = e.get("DATABASE_URL") or d.database_url
        return cls(
            env=env,
            secret_key=e.get("SECRET_KEY", d.secret_key),
            database_url=db,
            redis_url=e.get("REDIS_URL") or None,
            redis_prefix=e.get("REDIS_PREFIX", d.redis_prefix),
            market_source=e.get("MARKET_DATA_SOURCE", d.market_source),
            watchlist=_list(e.get("WATCHLIST"), d.watchlist),
            display_series=_pairs(e.get("DISPLAY_SERIES")),
            demo_days=int(e.get("DEMO_DAYS", d.demo_days)),
            demo_seed=int(e.get("DEMO_SEED", d.demo_seed)),
            binance_base_url=e.get("BINANCE_BASE_URL", d.binance_base_url),
            coinbase_base_url=e.get("COINBASE_BASE_URL", d.coinbase_base_url),
            kraken_base_url=e.get("KRAKEN_BASE_URL", d.kraken_base_url),
            http_timeout_s=float(e.get("HTTP_TIMEOUT_S", d.http_timeout_s)),
            login_limit_account=e.get("LOGIN_LIMIT_ACCOUNT") or d.login_limit_account,
            login_limit_ip=e.get("LOGIN_LIMIT_IP") or d.login_limit_ip,
            login_limit_account_total=e.get("LOGIN_LIMIT_ACCOUNT_TOTAL") or d.login_limit_account_total,
            api_rate_limit=e.get("API_RATE_LIMIT") or d.api_rate_limit,
            limit_backtest_submit=e.get("LIMIT_BACKTEST_SUBMIT") or d.limit_backtest_submit,
            limit_backtest_batch=e.get("LIMIT_BACKTEST_BATCH") or d.limit_backtest_batch,
            limit_model_training=e.get("LIMIT_MODEL_TRAINING") or d.limit_model_training,
            login_delay_max_s=_int("LOGIN_DELAY_MAX_S", e.get("LOGIN_DELAY_MAX_S"), d.login_delay_max_s),
            session_idle_minutes=_int("SESSION_IDLE_MINUTES", e.get("SESSION_IDLE_MINUTES"), d.session_idle_minutes),
            max_request_bytes=_int("MAX_REQUEST_BYTES", e.get("MAX_REQUEST_BYTES"), d.max_request_bytes),
            backtest_max_queued_per_user=_int("BACKTEST_MAX_QUEUED_PER_USER", e.get("BACKTEST_MAX_QUEUED_PER_USER"),
                                              d.backtest_max_queued_per_user),
            backtest_max_active_per_user=_int("BACKTEST_MAX_ACTIVE_PER_USER", e.get("BACKTEST_MAX_ACTIVE_PER_USER"),
                                              d.backtest_max_active_per_user),
            session_cookie_secure=_bool(e.get("SESSION_COOKIE_SECURE"), env == "production"),
            create_demo_users=_bool(e.get("CREATE_DEMO_USERS"), env != "production"),
            refresh_ms=int(e.get("REFRESH_MS", d.refresh_ms)),
            model_dir=e.get("MODEL_DIR", d.model_dir),
            ml_live_window=_int("ML_LIVE_WINDOW", e.get("ML_LIVE_WINDOW"), d.ml_live_window),
            metrics_token=_secret(e, "METRICS_TOKEN"),
            metrics_allow_networks=_list(e.get("METRICS_ALLOW_NETWORKS"), d.metrics_allow_networks),
            prometheus_multiproc_dir=e.get("PROMETHEUS_MULTIPROC_DIR") or None,
            json_logs=_bool(e.get("LOG_JSON"), env == "production"),
            log_level=e.get("LOG_LEVEL", d.log_level),
            gunicorn_bind=e.get("GUNICORN_BIND", d.gunicorn_bind),
            gunicorn_workers=_int("GUNICORN_WORKERS", e.get("GUNICORN_WORKERS"), d.gunicorn_workers),
            gunicorn_threads=_int("GUNICORN_THREADS", e.get("GUNICORN_THREADS"), d.gunicorn_threads),
            gunicorn_keepalive_s=_int("GUNICORN_KEEPALIVE", e.get("GUNICORN_KEEPALIVE"), d.gunicorn_keepalive_s),
            forwarded_allow_ips=e.get("FORWARDED_ALLOW_IPS", d.forwarded_allow_ips),
            worker_nice=_int("WORKER_NICE", e.get("WORKER_NICE"), d.worker_nice),
            chromium_bin=e.get("CHROMIUM_BIN") or d.chromium_bin,
            pdf_timeout_s=_int("PDF_TIMEOUT_S", e.get("PDF_TIMEOUT_S"), d.pdf_timeout_s),
            alerts_key=_secret(e, "ALERTS_SECRET_KEY"),
            alerts_allow_loopback=_bool(e.get("ALERTS_ALLOW_LOOPBACK"), False),
            telegram_bot_token=_secret(e, "TELEGRAM_BOT_TOKEN"),
            telegram_base_url=e.get("TELEGRAM_BASE_URL", d.telegram_base_url),
            smtp_host=e.get("SMTP_HOST") or None,
            smtp_port=_int("SMTP_PORT", e.get("SMTP_PORT"), d.smtp_port),
            smtp_user=e.get("SMTP_USER") or None,
            smtp_password=_secret(e, "SMTP_PASSWORD"),
            smtp_from=e.get("SMTP_FROM", d.smtp_from),
            smtp_starttls=_bool(e.get("SMTP_STARTTLS"), True),
            stream_bind=e.get("STREAM_BIND") or d.stream_bind,
            stream_queue_max=_int("STREAM_QUEUE_MAX", e.get("STREAM_QUEUE_MAX"), d.stream_queue_max),
            stream_heartbeat_s=_float("STREAM_HEARTBEAT_S", e.get("STREAM_HEARTBEAT_S"), d.stream_heartbeat_s),
            stream_max_connections=_int("STREAM_MAX_CONNECTIONS", e.get("STREAM_MAX_CONNECTIONS"),
                                        d.stream_max_connections),
            stream_max_per_user=_int("STREAM_MAX_PER_USER", e.get("STREAM_MAX_PER_USER"), d.stream_max_per_user),
            stream_recheck_s=_float("STREAM_RECHECK_S", e.get("STREAM_RECHECK_S"), d.stream_recheck_s),
        )
