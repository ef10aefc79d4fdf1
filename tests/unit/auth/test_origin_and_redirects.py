"""Same-origin checks and the post-login redirect target (pure functions)."""
import pytest

from app.auth.guard import safe_next
from app.ops.security import csp_policy, same_origin


@pytest.mark.parametrize("value, host_url, ok", [
    ("http://localhost", "http://localhost/", True),
    ("http://localhost:80", "http://localhost/", True),
    ("https://cw.example.com", "https://cw.example.com/", True),
    ("https://CW.example.com/backtests?x=1", "https://cw.example.com/", True),
    ("http://cw.example.com", "https://cw.example.com/", False),
    ("https://cw.example.com:8443", "https://cw.example.com/", False),
    ("https://evil.example", "https://cw.example.com/", False),
    ("https://cw.example.com.evil.example", "https://cw.example.com/", False),
    ("null", "https://cw.example.com/", False),
    ("", "https://cw.example.com/", False),
    ("https://cw.example.com:99999", "https://cw.example.com/", False),
])
def test_same_origin(value, host_url, ok):
    assert same_origin(value, host_url) is ok


@pytest.mark.parametrize("target, expected", [
    ("/backtests?id=3", "/backtests?id=3"), ("/", "/"), ("/%2F/evil.com", "/%2F/evil.com"),
    ("/\t/evil.com", "/"), ("/\r\n/evil.com", "/"), ("\x0c//evil.com", "/"), ("/\\evil.com", "/"),
    ("//evil.com", "/"), ("https://evil.com", "/"), ("evil.com", "/"), ("/a\x7f", "/"), (None, "/"), (7, "/"),
])
def test_safe_next(target, expected):
    assert safe_next(target) == expected


def test_csp_has_no_inline_or_eval_scripts_and_forbids_framing():
    policy = csp_policy(("'sha256-abc='",))
    assert policy["script-src"] == ["'self'", "'sha256-abc='"]
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
