"""`rq cron workers/cron_config.py` (production): refresh every watch-list series on its cadence,
and retrain the LSTM of each watch-list symbol weekly (a new version; promoted only by the rule)."""
from rq import cron

from app.settings import Settings
from workers.ingest import refresh
from workers.ml import train
from workers.schedule import CRON_BY_TIMEFRAME, RETRAIN_CRON, RETRAIN_TIMEFRAMES

_settings = Settings.from_env()
_exchange = _settings.market_source if _settings.market_source != "auto" else "binance"

for _symbol in _settings.watchlist:
    for _tf in _settings.timeframes:
        cron.register(refresh, "ingest", args=(_exchange, _symbol, _tf), cron=CRON_BY_TIMEFRAME[_tf],
                      job_timeout=300, result_ttl=3600, failure_ttl=86400,
                      name=f"refresh {_exchange} {_symbol} {_tf}")
    for _tf in RETRAIN_TIMEFRAMES:
        cron.register(train, "ml", args=(_exchange, _symbol, _tf), cron=RETRAIN_CRON,
                      job_timeout=3600, result_ttl=7 * 86400, failure_ttl=7 * 86400,
                      name=f"retrain {_symbol} {_tf}")
