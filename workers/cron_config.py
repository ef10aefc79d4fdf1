"""`rq cron workers/cron_config.py` (production): each timeframe's refreshes on its cadence, and a
weekly LSTM retrain of each watch-list symbol (a new version; promoted only by the rule).

``rq cron`` takes no ``Retry``, so the scheduled job is the small ``refresh_due(tf)``, which
enqueues each series' refresh through ``workers.queues.enqueue`` with the ingest queue's retries;
limits come from the queue policies, and the exchange is chosen when the job runs
(``workers.schedule.default_exchange``), as everywhere else.
"""
from rq import cron

from app.settings import Settings
from workers.alerts import sweep as alerts_sweep
from workers.ingest import refresh_due
from workers.ml import train
from workers.queues import POLICIES
from workers.schedule import CRON_BY_TIMEFRAME, RETRAIN_CRON, RETRAIN_TIMEFRAMES

_settings = Settings.from_env()
_ingest, _ml, _alerts = POLICIES["ingest"], POLICIES["ml"], POLICIES["alerts"]

for _tf in _settings.timeframes:
    cron.register(refresh_due, "ingest", args=(_tf,), cron=CRON_BY_TIMEFRAME[_tf], job_timeout=_ingest.job_timeout,
                  result_ttl=_ingest.result_ttl, failure_ttl=_ingest.failure_ttl, name=f"refresh {_tf}")
for _symbol in _settings.watchlist:
    for _tf in RETRAIN_TIMEFRAMES:
        cron.register(train, "ml", kwargs={"exchange": None, "symbol": _symbol, "timeframe": _tf}, cron=RETRAIN_CRON,
                      job_timeout=_ml.job_timeout, result_ttl=_ml.result_ttl, failure_ttl=_ml.failure_ttl,
                      name=f"retrain {_symbol} {_tf}")
# alerts: re-evaluate symbols with live rules and re-enqueue pending deliveries (after a stop, a lost job)
cron.register(alerts_sweep, "alerts", cron="* * * * *", job_timeout=_alerts.job_timeout, result_ttl=_alerts.result_ttl,
              failure_ttl=_alerts.failure_ttl, name="alerts sweep")
