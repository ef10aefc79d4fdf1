"""deploy/nginx in front of a real gunicorn on loopback: redirect, TLS, headers, gzip, caching, limits."""
from __future__ import annotations

import http.client
import shutil
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.ops.test_ops_processes import child_env, free_port, wait_for
from tests.unit.ops.nginx_render import render_nginx

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("nginx") is None,
                                 reason="nginx is not installed (apt-get install nginx-light)")]
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def proxied(tmp_path_factory, redis_db, pg_url):
    """One gunicorn and one nginx for the module (starting gunicorn takes a while on this machine)."""
    from app.settings import Settings
    from tests.conftest import REDIS_BASE_URL
    from workers.run import health_web

    tmp_path = tmp_path_factory.mktemp("nginx")
    redis_url = f"{REDIS_BASE_URL}/{redis_db}"

    app_port, http_port, https_port = free_port(), free_port(), free_port()
    web = subprocess.Popen([sys.executable, "-m", "workers.run", "web"], cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL,
                           env=child_env(redis_url, pg_url, GUNICORN_BIND=f"127.0.0.1:{app_port}",
                                         GUNICORN_WORKERS="1", PROMETHEUS_MULTIPROC_DIR=str(tmp_path)))
    conf = render_nginx(tmp_path, app_port, http_port, https_port)
    nginx = None
    try:
        wait_for(lambda: health_web(Settings(redis_url=redis_url, gunicorn_bind=f"127.0.0.1:{app_port}")),
                 timeout=120)
        nginx = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"],
                                 stderr=subprocess.PIPE, text=True)
        wait_for(lambda: (_port_open(https_port), "nginx listening"), timeout=20, every=0.1)
        yield http_port, https_port
    finally:
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)
            try:
                nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx.kill()
        web.send_signal(signal.SIGTERM)
        web.wait(timeout=30)


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def request(port, path, tls=True, method="GET", headers=None, body=None):
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=20)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request(method, path, body=body, headers={"Host": "cw.test", **(headers or {})})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def test_http_redirects_to_https_and_health_answers(proxied):
    http_port, _ = proxied
    resp, _ = request(http_port, "/healthz?x=1", tls=False)
    assert resp.status == 301 and resp.getheader("Location") == "https://cw.test/healthz?x=1"
    resp, body = request(http_port, "/nginx-health", tls=False)
    assert resp.status == 200 and body == b"ok\n"


def test_https_proxies_with_security_headers_once_and_the_request_id(proxied):
    _, https_port = proxied
    resp, body = request(https_port, "/healthz", headers={"X-Request-ID": "from-client-1"})
    assert resp.status == 200 and b'"ok"' in body
    assert resp.getheader("X-Request-ID") == "from-client-1"
    headers = resp.getheaders()
    for name, value in (("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
                        ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
                        ("Referrer-Policy", "strict-origin-when-cross-origin")):
        assert [v for k, v in headers if k.lower() == name.lower()] == [value], name
    generated, _ = request(https_port, "/healthz")
    assert len(generated.getheader("X-Request-ID")) == 32  # nginx's $request_id when the client sent none


def test_static_files_are_gzipped_and_cached(proxied):
    _, https_port = proxied
    first, body = request(https_port, "/theme/darkly.css", headers={"Accept-Encoding": "gzip"})
    assert first.status == 200 and first.getheader("Content-Encoding") == "gzip"
    assert first.getheader("X-Cache-Status") == "MISS"
    assert first.getheader("Cache-Control") == "public, max-age=86400"
    assert first.getheader("X-Content-Type-Options") == "nosniff"  # repeated inside the location
    import gzip

    assert b"--bs-body-bg" in gzip.decompress(body)
    second, _ = request(https_port, "/theme/darkly.css", headers={"Accept-Encoding": "gzip"})
    assert second.getheader("X-Cache-Status") == "HIT"


def test_metrics_are_not_reachable_through_nginx_and_large_bodies_are_refused(proxied):
    _, https_port = proxied
    resp, _ = request(https_port, "/metrics")
    assert resp.status == 404
    resp, _ = request(https_port, "/login", method="POST", body=b"x" * (6 * 1024 * 1024),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 413
