"""`rq cron workers/cron_config.py` (production): each timeframe's refreshes on its cadence, and a
weekly LSTM retrain of each market on the stored watch-list (a new version; promoted only by the rule).

Nothing here reads the watch-list: it is read when each scheduled job runs (``refresh_due``,
``retrain_due``), so a market added or removed on the Admin page counts from the next run on.

``rq cron`` takes no ``Retry``, so the scheduled job is the small ``refresh_due(tf)``, which
enqueues each series' refresh through ``workers.queues.enqueue`` with the ingest queue's retries;
limits come from the queue policies, and the exchange is chosen when the job runs
(``workers.schedule.default_exchange``), as everywhere else.
"""
from rq import cron

from app.settings import Settings
from workers.alerts import sweep as alerts_sweep
from workers.ingest import refresh_due
from workers.ml import retrain_due
from workers.queues import POLICIES
from workers.schedule import CRON_BY_TIMEFRAME, RETRAIN_CRON
from workers.system import sweep as jobs_sweep

_settings = Settings.from_env()
_ingest, _ml, _alerts = POLICIES["ingest"], POLICIES["ml"], POLICIES["alerts"]

for _tf in _settings.timeframes:
    cron.register(refresh_due, "ingest", args=(_tf,), cron=CRON_BY_TIMEFRAME[_tf], job_timeout=_ingest.job_timeout,
                  result_ttl=_ingest.result_ttl, failure_ttl=_ingest.failure_ttl, name=f"refresh {_tf}")
# the weekly retrain: a small job that enqueues one training per stored watch-list market (the ml queue's limits)
cron.register(retrain_due, "ml", cron=RETRAIN_CRON, job_timeout=_ml.job_timeout, result_ttl=_ml.result_ttl,
              failure_ttl=_ml.failure_ttl, name="weekly retrain")
# alerts: re-evaluate symbols with live rules and re-enqueue pending deliveries (after a stop, a lost job)
cron.register(alerts_sweep, "alerts", cron="* * * * *", job_timeout=_alerts.job_timeout, result_ttl=_alerts.result_ttl,
              failure_ttl=_alerts.failure_ttl, name="alerts sweep")
# the sweeper: abandoned jobs retried or failed by RQ, orphaned "running" rows marked failed (workers/sweeper.py)
cron.register(jobs_sweep, "alerts", cron="* * * * *", job_timeout=_alerts.job_timeout, result_ttl=_alerts.result_ttl,
              failure_ttl=_alerts.failure_ttl, name="jobs sweep")
