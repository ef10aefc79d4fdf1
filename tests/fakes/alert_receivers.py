"""Local servers on 127.0.0.1 that alert tests start: a webhook receiver checking the HMAC, a fake
Telegram Bot API and an SMTP server (aiosmtpd). Each records what it received, with the time."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server:
    """A ThreadingHTTPServer whose answers follow a script: ``plan`` is a list of (status, body,
    delay_s) used for the first requests, then 200."""

    def __init__(self, handler_cls):
        self.received: list[dict] = []
        self.plan: list[tuple[int, dict, float]] = []
        self.lock = threading.Lock()
        owner = self

        class H(handler_cls):
            server_owner = owner

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def next_answer(self) -> tuple[int, dict, float]:
        with self.lock:
            return self.plan.pop(0) if self.plan else (200, {"ok": True}, 0.0)

    def wait_for(self, n: int, timeout: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= n:
                return self.received
            time.sleep(0.05)
        return self.received

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    server_owner: _Server

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, answer, delay = self.server_owner.next_answer()
        record = {"t": time.time(), "path": self.path, "headers": dict(self.headers), "body": body, "status": status}
        self.server_owner.received.append(record)  # recorded on arrival: "received" even if we never answer
        if delay:
            time.sleep(delay)
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class WebhookReceiver(_Server):
    def __init__(self, secret: str):
        super().__init__(_Handler)
        self.secret = secret

    def verified(self, record: dict, max_age_s: int = 300) -> bool:
        ts = record["headers"].get("X-Candlewise-Timestamp", "")
        sig = record["headers"].get("X-Candlewise-Signature", "")
        want = "sha256=" + hmac.new(self.secret.encode(), ts.encode() + b"." + record["body"], hashlib.sha256).hexdigest()
        return hmac.compare_digest(sig, want) and abs(time.time() - int(ts)) <= max_age_s


class FakeTelegram(_Server):
    """``POST /bot<token>/sendMessage`` -> ``{"ok": true, "result": {...}}`` (or the scripted answer)."""

    def __init__(self):
        super().__init__(_Handler)

    def messages(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.received if r["status"] == 200]


class SMTPSink:
    """aiosmtpd on 127.0.0.1 keeping every message; ``tls_context`` turns STARTTLS on (required)."""

    def __init__(self, tls_context=None):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        owner = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                import email

                owner.messages.append(email.message_from_bytes(envelope.content))
                return "250 OK"

        import socket

        with socket.socket() as probe:  # aiosmtpd connects to its own port to check it is up: no port 0
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        kw = {"tls_context": tls_context, "require_starttls": True} if tls_context is not None else {}
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kw)
        self.controller.start()

    def close(self):
        self.controller.stop()
