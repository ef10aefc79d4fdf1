""".env.example documents every variable app/settings.py reads (and only those, plus compose's own)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


def settings_variables() -> set[str]:
    """Names read in Settings.from_env: e.get("NAME"...), e.get(f"..."), _secret(e, "NAME") (+ NAME_FILE)."""
    tree = ast.parse((ROOT / "app" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and isinstance(func.value, ast.Name) \
                and func.value.id == "e" and node.args and isinstance(node.args[0], ast.Constant):
            names.add(node.args[0].value)
        if isinstance(func, ast.Name) and func.id == "_secret" and isinstance(node.args[1], ast.Constant):
            names.update({node.args[1].value, node.args[1].value + "_FILE"})
    return names


def env_example_variables() -> set[str]:
    found = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        m = re.match(r"^#?\s?([A-Z][A-Z0-9_]*)=", line)
        if m:
            found.add(m.group(1))
    return found


def compose_variables() -> set[str]:
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text()))


def test_the_settings_parser_sees_the_variables_it_should():
    names = settings_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "METRICS_TOKEN", "METRICS_TOKEN_FILE",
            "METRICS_ALLOW_NETWORKS", "WORKER_NICE", "GUNICORN_KEEPALIVE"} <= names
    assert len(names) >= 30


def test_env_example_documents_every_setting():
    missing = settings_variables() - env_example_variables()
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_env_example_lists_nothing_unknown():
    unknown = env_example_variables() - settings_variables() - compose_variables()
    assert not unknown, f".env.example documents variables nothing reads: {sorted(unknown)}"


def test_every_compose_interpolation_is_documented():
    missing = compose_variables() - env_example_variables()
    assert not missing, f"docker-compose.yml uses {sorted(missing)} without a line in .env.example"


def test_operations_settings_are_validated_with_the_field_named():
    base = {"CANDLEWISE_ENV": "development"}
    for env, field in [({"METRICS_ALLOW_NETWORKS": "10.0.0.0/8,not-a-net"}, "METRICS_ALLOW_NETWORKS"),
                       ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN"),
                       ({"WORKER_NICE": "25"}, "WORKER_NICE"),
                       ({"WORKER_NICE": "ten"}, "WORKER_NICE"),
                       ({"GUNICORN_WORKERS": "0"}, "GUNICORN_WORKERS"),
                       ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
                       ({"METRICS_TOKEN_FILE": "/nonexistent/token"}, "METRICS_TOKEN_FILE")]:
        with pytest.raises(ValueError, match=field):
            Settings.from_env({**base, **env})


def test_metrics_token_can_come_from_a_file(tmp_path):
    token = tmp_path / "token"
    token.write_text("t" * 40 + "\n")
    s = Settings.from_env({"METRICS_TOKEN_FILE": str(token), "METRICS_TOKEN": "ignored-when-a-file-is-given"})
    assert s.metrics_token == "t" * 40
    s = Settings.from_env({"METRICS_ALLOW_NETWORKS": "10.0.0.0/8, 192.168.1.7"})
    assert s.metrics_allow_networks == ("10.0.0.0/8", "192.168.1.7")


def test_json_logs_default_to_production_only():
    assert Settings.from_env({"CANDLEWISE_ENV": "production", "SECRET_KEY": "k" * 32}).json_logs
    assert not Settings.from_env({}).json_logs
    assert Settings.from_env({"LOG_JSON": "1"}).json_logs
