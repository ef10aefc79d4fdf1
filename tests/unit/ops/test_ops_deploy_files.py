"""The deploy files: they parse, reference only files that exist, and start processes the way `make run` does."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from app.ops import metrics
from tests.unit.ops.nginx_render import NGINX, render_nginx
from app.settings import Settings
from workers import run

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = {"web": "web", "worker": "worker", "cron": "cron", "stream": "stream"}
ONE_SHOT = {"migrate", "backup", "certbot"}


def test_compose_has_the_stack():
    assert {"web", "worker", "cron", "postgres", "redis", "nginx", "prometheus", "grafana", "migrate"} <= set(SERVICES)
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    redis_cmd = SERVICES["redis"]["command"]
    assert redis_cmd[redis_cmd.index("--appendonly") + 1] == "yes"
    assert "container_name" not in SERVICES["worker"]  # --scale worker=N needs generated names


@pytest.mark.parametrize("service", sorted(APP_SERVICES))
def test_each_app_service_runs_the_same_command_as_make_run(service):
    assert SERVICES[service]["command"] == run.command(APP_SERVICES[service])
    # and make run's `all` starts that very command for the process (with this interpreter)
    assert run.command(service, "/x/python")[1:] == SERVICES[service]["command"][1:]


def test_makefile_targets_use_workers_run():
    makefile = (ROOT / "Makefile").read_text()

    def recipe(target):
        m = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.M)
        assert m, f"no {target} target"
        return m.group(1)

    assert "-m workers.run all" in recipe("run")
    assert "-m workers.run web" in recipe("serve")
    assert "-m workers.run worker" in recipe("worker")
    assert "-m workers.run cron" in recipe("cron")
    assert "-m workers.run stream" in recipe("stream")
    assert "$(FLASK) db upgrade" in recipe("migrate")
    assert SERVICES["migrate"]["command"] == ["flask", "--app", "wsgi:server", "db", "upgrade"]
    assert "FLASK := $(VENV)/bin/flask --app wsgi:server" in makefile


def test_the_worker_listens_on_every_queue_from_workers_queues():
    from workers.queues import QUEUE_NAMES

    argv = run.rq_worker_argv()
    assert argv[-len(QUEUE_NAMES):] == list(QUEUE_NAMES)
    assert argv[argv.index("--worker-class") + 1] == "workers.worker.Worker"
    assert "--with-scheduler" in argv and "--url" not in argv  # the URL travels in RQ_REDIS_URL
    assert (ROOT / run.CRON_CONFIG).is_file() and (ROOT / run.GUNICORN_CONF).is_file()


def test_every_long_running_service_has_a_health_check():
    for name, service in SERVICES.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", name
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in APP_SERVICES:
        assert SERVICES[name]["healthcheck"]["test"] == ["CMD", "python", "-m", "workers.run", "health", name]
    # web, worker and cron start only after a successful migration
    for name in APP_SERVICES:
        assert SERVICES[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def _bind_sources():
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                yield name, source


def test_compose_references_only_files_that_exist():
    sources = list(_bind_sources())
    assert len(sources) >= 6
    for name, source in sources:
        assert (ROOT / source).exists(), f"{name} mounts {source}, which is not in the repository"
    build = SERVICES["web"]["build"]
    assert (ROOT / build["context"] / build["dockerfile"]).is_file()
    secret = COMPOSE["secrets"]["metrics_token"]["file"]
    # the secret is made on the server by deploy.sh and must never be committed
    assert secret.startswith("./deploy/secrets/")
    ignored = subprocess.run(["git", "check-ignore", "-q", secret], cwd=ROOT).returncode == 0
    assert ignored, f"{secret} is not git-ignored"
    assert "metrics_token" in (ROOT / "deploy/scripts/deploy.sh").read_text()


def test_dockerfile_copies_only_what_exists_runs_as_non_root_and_uses_workers_run():
    text = (ROOT / "deploy/Dockerfile").read_text()
    copies = re.findall(r"^COPY\s+(.+?)\s+\S+$", text, re.M)
    assert copies
    for sources in copies:
        for source in sources.split():
            assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert 'CMD ["python", "-m", "workers.run", "web"]' in text
    assert '"workers.run", "health", "web"' in text
    # every top-level package the app imports is in the image
    for package in ("app", "callbacks", "pages", "workers", "ml", "migrations"):
        assert f"COPY {package} " in text


def test_workers_and_cron_run_at_lower_priority_than_web():
    assert Settings().worker_nice > 0
    assert "os.nice(settings.worker_nice)" in Path(run.__file__).read_text()
    assert SERVICES["worker"]["environment"]["WORKER_NICE"] == "${WORKER_NICE:-10}"


# --- nginx ------------------------------------------------------------------------------------

def test_nginx_keepalive_is_shorter_than_gunicorns():
    upstream = re.search(r"upstream candlewise \{(.*?)\}", NGINX, re.S).group(1)
    nginx_idle = int(re.search(r"keepalive_timeout\s+(\d+)s;", upstream).group(1))
    assert re.search(r"^\s*keepalive\s+\d+;", upstream, re.M)
    assert Settings().gunicorn_keepalive_s > nginx_idle
    assert "GUNICORN_KEEPALIVE" not in json.dumps(SERVICES["web"]["environment"])  # compose keeps the default
    proxy = (ROOT / "deploy/nginx/snippets/candlewise-proxy.conf").read_text()
    assert "proxy_http_version 1.1;" in proxy and 'proxy_set_header Connection "";' in proxy


def test_nginx_tls_redirect_gzip_caching_limits_and_headers():
    assert "ssl_certificate     /etc/letsencrypt/live/${CANDLEWISE_DOMAIN}/fullchain.pem;" in NGINX
    assert "return 301 https://$host$request_uri;" in NGINX
    assert "gzip on;" in NGINX and "client_max_body_size" in NGINX
    for prefix in ("/_dash-component-suites/", "/assets/", "/theme/"):
        block = re.search(rf"location \^~ {re.escape(prefix)} \{{(.*?)\n    \}}", NGINX, re.S).group(1)
        assert "proxy_cache cw_static;" in block and "Cache-Control" in block
        # a location with its own add_header must repeat the security headers (nginx does not inherit them)
        assert "candlewise-security-headers.conf" in block
    assert "Content-Security-Policy" not in NGINX.replace("Content-Security-Policy is the app's", "")
    headers = (ROOT / "deploy/nginx/snippets/candlewise-security-headers.conf").read_text()
    assert "Content-Security-Policy" not in headers and "X-Content-Type-Options" in headers
    assert re.search(r"location = /metrics \{\s*return 404;", NGINX)


def test_nginx_proxies_the_stream_with_upgrade_headers_to_every_stream_replica():
    block = re.search(r"location \^~ /stream/ \{(.*?)\n    \}", NGINX, re.S).group(1)
    assert "proxy_pass http://candlewise_stream;" in block and "proxy_http_version 1.1;" in block
    assert "proxy_set_header Upgrade $http_upgrade;" in block
    assert "proxy_set_header Connection $cw_connection_upgrade;" in block
    assert re.search(r"map \$http_upgrade \$cw_connection_upgrade \{\s*default upgrade;", NGINX)
    # the location sets its own headers, so it must repeat the ones the proxy snippet sets for the app
    for header in ("Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Request-ID"):
        assert f"proxy_set_header {header} " in block, header
    assert re.search(r"upstream candlewise_stream \{\s*server stream:8060;", NGINX)
    assert re.search(r"location = /stream/healthz \{\s*return 404;", NGINX)
    stream = SERVICES["stream"]
    assert stream["environment"]["STREAM_BIND"] == "0.0.0.0:8060" and stream["expose"] == ["8060"]
    assert "container_name" not in stream  # --scale stream=N
    assert "ports" not in stream  # reached through nginx only


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (apt-get install nginx-light)")
def test_nginx_accepts_the_config(tmp_path):
    conf = render_nginx(tmp_path, 18050, 18080, 18443)
    result = subprocess.run(["nginx", "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --- Prometheus and Grafana ---------------------------------------------------------------------

PROMETHEUS = ROOT / "deploy/prometheus/prometheus.yml"
RULES = ROOT / "deploy/prometheus/rules/candlewise.yml"
RULE_TESTS = ROOT / "deploy/prometheus/tests/candlewise_test.yml"
DASHBOARD = ROOT / "deploy/grafana/dashboards/candlewise.json"


def known_metric_names() -> set[str]:
    names = {"up"}
    for m in metrics.CATALOGUE:
        names.add(m.exported_name)
        if m.kind == "histogram":
            names.update({f"{m.name}_bucket", f"{m.name}_count", f"{m.name}_sum"})
    names.update({metrics.INGEST_LAG, metrics.INGEST_LAG_BARS, "candlewise_metrics_store_up",
                  "candlewise_queue_jobs", "candlewise_queue_oldest_job_age_seconds", "candlewise_queue_workers",
                  "candlewise_queue_redis_up"})
    base = "flask_http_request_duration_seconds"
    names.update({f"{base}_bucket", f"{base}_count", f"{base}_sum", "flask_http_request_total",
                  "flask_http_request_exceptions_total"})
    return names


def metric_names_in(expr: str) -> set[str]:
    return {t for t in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr) if t.startswith(("candlewise_", "flask_"))} | (
        {"up"} if re.search(r"\bup\{", expr) else set())


def test_prometheus_config_parses_and_scrapes_the_app_with_the_token():
    config = yaml.safe_load(PROMETHEUS.read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "candlewise")
    assert job["static_configs"][0]["targets"] == ["web:8050"] and job["metrics_path"] == "/metrics"
    assert job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
    assert SERVICES["web"]["environment"]["METRICS_TOKEN_FILE"] == "/run/secrets/metrics_token"
    assert "metrics_token" in SERVICES["prometheus"]["secrets"] and "metrics_token" in SERVICES["web"]["secrets"]
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]


def test_alert_rules_cover_the_four_situations_and_use_defined_metrics():
    rules = {r["alert"]: r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    for alert in ("CandlewiseDown", "CandlewiseQueueBacklog", "CandlewiseIngestionStale", "CandlewiseHighErrorRate"):
        assert alert in rules
    known = known_metric_names()
    for name, rule in rules.items():
        used = metric_names_in(rule["expr"])
        assert used and used <= known, f"{name} uses undefined metrics {used - known}"
        assert rule["labels"]["severity"] in ("warning", "critical") and rule["annotations"]["summary"]


def test_grafana_provisioning_and_dashboard():
    datasource = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    ds = datasource["datasources"][0]
    assert ds["type"] == "prometheus" and ds["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/candlewise.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in SERVICES["grafana"]["volumes"]
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = set().union(*(metric_names_in(e) for e in exprs))
    assert used <= known_metric_names(), used - known_metric_names()
    for p in dashboard["panels"]:
        if p["type"] != "row":
            assert p["datasource"]["uid"] == ds["uid"]
    # what the dashboard must show
    for needed in ("flask_http_request_duration_seconds_count", "flask_http_request_duration_seconds_bucket",
                   "candlewise_queue_jobs", "candlewise_job_duration_seconds_bucket",
                   "candlewise_job_failures_total", "candlewise_ingest_lag_seconds",
                   "candlewise_alert_deliveries_total", "candlewise_prediction_latency_seconds_bucket",
                   "candlewise_model_live_accuracy"):
        assert needed in used, needed
    assert any("url_rule" in e for e in exprs) and any("model_version" in e for e in exprs)
    assert any("channel, outcome" in e for e in exprs)


PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian: apt-get install prometheus)")


@needs_promtool
def test_promtool_checks_the_config(tmp_path):
    # the config's absolute container paths, pointed at the repository's files
    (tmp_path / "token").write_text("t" * 32)
    text = PROMETHEUS.read_text().replace("/run/secrets/metrics_token", str(tmp_path / "token"))
    text = text.replace("/etc/prometheus/rules/", str(RULES.parent) + "/")
    conf = tmp_path / "prometheus.yml"
    conf.write_text(text)
    result = subprocess.run([PROMTOOL, "check", "config", str(conf)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


@needs_promtool
def test_promtool_checks_the_rules():
    result = subprocess.run([PROMTOOL, "check", "rules", str(RULES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_alert_rules_fire_on_synthetic_series():
    """promtool's rule unit tests (deploy/prometheus/tests): each alert fires when it should and not before."""
    result = subprocess.run([PROMTOOL, "test", "rules", str(RULE_TESTS)], capture_output=True, text=True,
                            cwd=RULE_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr
