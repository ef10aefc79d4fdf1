"""deploy.sh and rollback.sh with a stub `docker` first on PATH: it records every call (with the image tag
it was run for) and fails on demand, so the health-check failure and the rollback path really run."""
from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = ROOT / "deploy" / "scripts"

STUB = r"""#!/usr/bin/env bash
# stub docker: log "TAG|args", then fail where the test asked to
echo "${CANDLEWISE_TAG:-}|$*" >> "$STUB_LOG"
case "$*" in
  *"workers.run health"*) [ "${CANDLEWISE_TAG:-}" = "${STUB_UNHEALTHY_TAG:-}" ] && exit 1 ;;
  *"run --rm backup"*) [ -n "${STUB_FAIL_BACKUP:-}" ] && exit 1 ;;
  *"run --rm migrate"*) [ -n "${STUB_FAIL_MIGRATE:-}" ] && exit 1 ;;
  "image inspect "*) for t in ${STUB_MISSING_IMAGES:-}; do [ "$3" = "candlewise:$t" ] && exit 1; done ;;
esac
exit 0
"""


@pytest.fixture
def stack(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(STUB)
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=x\n")
    base = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "STUB_LOG": str(tmp_path / "docker.log"),
        "CANDLEWISE_STATE_DIR": str(tmp_path / "state"),
        "CANDLEWISE_SECRETS_DIR": str(tmp_path / "secrets"),
        "CANDLEWISE_ENV_FILE": str(env_file),
        "DEPLOY_HEALTH_RETRIES": "2",
        "DEPLOY_HEALTH_INTERVAL": "0",
    }

    class Stack:
        path = tmp_path

        def run(self, script, *args, **extra):
            (tmp_path / "docker.log").write_text("")
            return subprocess.run(["bash", str(SCRIPTS / script), *args], capture_output=True, text=True,
                                  env={**base, **extra}, timeout=60)

        def calls(self):
            return [tuple(line.split("|", 1)) for line in (tmp_path / "docker.log").read_text().splitlines()]

        def tag(self, which):
            p = tmp_path / "state" / f"{which}-tag"
            return p.read_text().strip() if p.exists() else None

    return Stack()


def index(calls, tag, needle):
    return next(i for i, (t, args) in enumerate(calls) if t == tag and needle in args)


def test_first_deploy_backs_up_builds_migrates_starts_and_checks_health(stack):
    done = stack.run("deploy.sh", "--tag", "v1", "--no-pull")
    assert done.returncode == 0, done.stdout + done.stderr
    calls = stack.calls()
    order = [index(calls, "", "compose run --rm backup"), index(calls, "v1", "compose build"),
             index(calls, "v1", "compose run --rm migrate"), index(calls, "v1", "compose up -d"),
             index(calls, "v1", "exec -T web python -m workers.run health web"),
             index(calls, "v1", "exec -T worker python -m workers.run health worker")]
    assert order == sorted(order)
    assert stack.tag("current") == "v1" and stack.tag("previous") == ""
    token = (stack.path / "secrets" / "metrics_token").read_text()
    assert len(token) == 64 and int(token, 16) >= 0
    assert oct((stack.path / "secrets").stat().st_mode & 0o777) == "0o700"


def test_unhealthy_deploy_rolls_back_to_the_previous_tag(stack):
    assert stack.run("deploy.sh", "--tag", "v1", "--no-pull").returncode == 0
    token = (stack.path / "secrets" / "metrics_token").read_text()
    failed = stack.run("deploy.sh", "--tag", "v2", "--no-pull", STUB_UNHEALTHY_TAG="v2")
    assert failed.returncode != 0
    assert "rolling back to v1" in failed.stdout and "rolled back to v1" in failed.stderr
    calls = stack.calls()
    v2_checks = [c for c in calls if c[0] == "v2" and "health web" in c[1]]
    assert len(v2_checks) == 2  # DEPLOY_HEALTH_RETRIES
    up_v2 = index(calls, "v2", "compose up -d")
    inspect_v1 = index(calls, "", "image inspect candlewise:v1")
    back = index(calls, "v1", "compose up -d --no-deps --no-build --scale worker=2 web worker cron")
    healthy_again = index(calls, "v1", "health web")
    assert up_v2 < inspect_v1 < back < healthy_again
    # the rollback does not migrate (the database stays at the new schema) and keeps v1 recorded
    assert not any(t == "v1" and "migrate" in a for t, a in calls)
    assert stack.tag("current") == "v1"
    assert (stack.path / "secrets" / "metrics_token").read_text() == token  # kept, not regenerated


def test_a_failed_backup_stops_the_deploy_before_anything_changes(stack):
    failed = stack.run("deploy.sh", "--tag", "v1", "--no-pull", STUB_FAIL_BACKUP="1")
    assert failed.returncode != 0 and "backup failed" in failed.stderr
    assert [a for _, a in stack.calls()] == ["compose run --rm backup"]
    assert stack.tag("current") is None


def test_a_failed_migration_leaves_the_running_version(stack):
    assert stack.run("deploy.sh", "--tag", "v1", "--no-pull").returncode == 0
    failed = stack.run("deploy.sh", "--tag", "v2", "--no-pull", STUB_FAIL_MIGRATE="1")
    assert failed.returncode != 0 and "migration failed" in failed.stderr
    assert not any("up -d" in a for _, a in stack.calls())
    assert stack.tag("current") == "v1"


def test_rollback_script_on_its_own(stack):
    assert stack.run("deploy.sh", "--tag", "v1", "--no-pull").returncode == 0
    assert stack.run("deploy.sh", "--tag", "v2", "--no-pull").returncode == 0
    assert (stack.tag("current"), stack.tag("previous")) == ("v2", "v1")
    done = stack.run("rollback.sh")
    assert done.returncode == 0, done.stderr
    assert index(stack.calls(), "v1", "up -d --no-deps --no-build")
    assert (stack.tag("current"), stack.tag("previous")) == ("v1", "v2")
    # an image that is not on the host: refused before anything restarts
    missing = stack.run("rollback.sh", "v0", STUB_MISSING_IMAGES="v0")
    assert missing.returncode != 0 and "not on this host" in missing.stderr
    assert not any("up -d" in a for _, a in stack.calls())
    assert stack.tag("current") == "v1"


def test_bad_arguments_are_refused(stack):
    bad = stack.run("deploy.sh", "--tag", "bad tag;rm", "--no-pull")
    assert bad.returncode != 0 and "not a valid image tag" in bad.stderr and stack.calls() == []
    no_env = stack.run("deploy.sh", "--tag", "v1", "--no-pull", CANDLEWISE_ENV_FILE=str(stack.path / "nope"))
    assert no_env.returncode != 0 and ".env.example" in no_env.stderr and stack.calls() == []
    nothing = stack.run("rollback.sh")
    assert nothing.returncode != 0 and "no previous tag" in nothing.stderr
