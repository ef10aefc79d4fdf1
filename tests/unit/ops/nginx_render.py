"""Render deploy/nginx/candlewise.conf.template for a local nginx (tests): local ports, a self-signed
certificate, temporary cache and temp paths — everything else exactly as the image would render it."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
NGINX = (ROOT / "deploy/nginx/candlewise.conf.template").read_text()


def render_nginx(tmp_path: Path, upstream_port: int, http_port: int, https_port: int,
                 stream_port: int | None = None) -> Path:
    """The template as the nginx image renders it, pointed at local ports and a self-signed certificate."""
    live = tmp_path / "letsencrypt" / "live" / "cw.test"
    live.mkdir(parents=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=cw.test",
                    "-keyout", str(live / "privkey.pem"), "-out", str(live / "fullchain.pem")],
                   check=True, capture_output=True)
    text = NGINX.replace("${CANDLEWISE_DOMAIN}", "cw.test")
    text = text.replace("/etc/letsencrypt", str(tmp_path / "letsencrypt"))
    text = text.replace("/etc/nginx/snippets", str(ROOT / "deploy/nginx/snippets"))
    text = text.replace("/var/cache/nginx", str(tmp_path / "cache"))
    text = text.replace("/var/www/certbot", str(tmp_path / "webroot"))
    text = text.replace("server web:8050;", f"server 127.0.0.1:{upstream_port};")
    text = text.replace("server stream:8060;", f"server 127.0.0.1:{stream_port or upstream_port + 1};")
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http_port};").replace("listen [::]:80;", "")
    text = text.replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;").replace("listen [::]:443 ssl;", "")
    if _nginx_version() < (1, 25, 1):  # `http2 on;` is 1.25.1+; the image runs 1.27
        text = text.replace("http2 on;", "")
    (tmp_path / "cache").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""
        user root;
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/error.log;
        events {{}}
        http {{
            access_log off;
            client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;
            fastcgi_temp_path {tmp_path}/fcgi; uwsgi_temp_path {tmp_path}/uwsgi; scgi_temp_path {tmp_path}/scgi;
            {text}
        }}""")
    return conf


def _nginx_version() -> tuple[int, ...]:
    out = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr
    return tuple(int(p) for p in re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out).groups())
