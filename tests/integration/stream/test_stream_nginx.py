"""deploy/nginx's /stream/ location in front of a real stream process: the WebSocket upgrade over TLS works,
the bearer token reaches the stream, and pushed events come through."""
from __future__ import annotations

import json
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest
from websockets.sync.client import connect

from tests.integration.stream.conftest import bearer, free_port
from tests.unit.ops.nginx_render import render_nginx

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None,
                                reason="nginx is not installed (apt-get install nginx-light)")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_the_stream_works_through_nginx_over_tls(tmp_path, stream, make_token, publisher):
    http_port, https_port = free_port(), free_port()
    conf = render_nginx(tmp_path, free_port(), http_port, https_port, stream_port=stream.port)
    nginx = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"],
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not _listening(https_port):
            assert time.monotonic() < deadline and nginx.poll() is None, nginx.stderr.read() if nginx.poll() else ""
            time.sleep(0.1)
        tls = ssl.create_default_context()
        tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
        token, _, _ = make_token()
        with connect(f"wss://127.0.0.1:{https_port}/stream/v1", ssl=tls, server_hostname="cw.test",
                     additional_headers=bearer(token), open_timeout=10) as ws:
            assert json.loads(ws.recv(timeout=5))["type"] == "welcome"  # the token went through nginx
            ws.send(json.dumps({"type": "subscribe", "channels": ["signals"]}))
            assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"
            publisher.publish("signals", {"symbol": "BTC/USDT", "via": "nginx"})
            while True:
                doc = json.loads(ws.recv(timeout=5))
                if doc["type"] == "event":
                    break
            assert doc["data"] == {"symbol": "BTC/USDT", "via": "nginx"}
    finally:
        nginx.send_signal(signal.SIGQUIT)
        try:
            nginx.wait(timeout=10)
        except subprocess.TimeoutExpired:
            nginx.kill()
