"""workers/run.py: subcommands, the commands it builds, the web environment."""
import pytest

from app.settings import Settings
from workers import run


def test_subcommands_and_the_old_make_run_arguments():
    assert run.parse(["worker"]).process == "worker"
    args = run.parse(["--host", "0.0.0.0", "--port", "9000"])  # what `make run` passed before subcommands
    assert (args.process, args.host, args.port, args.workers) == ("all", "0.0.0.0", 9000, 2)
    assert run.parse([]).process == "all"
    assert run.parse(["health", "cron"]).kind == "cron"
    with pytest.raises(SystemExit):
        run.parse(["health", "nginx"])
    with pytest.raises(SystemExit):
        run.parse(["serve-everything"])


def test_command_is_validated():
    assert run.command("cron") == ["python", "-m", "workers.run", "cron"]
    with pytest.raises(ValueError, match="process"):
        run.command("all")


def test_web_env_gets_a_multiprocess_directory_only_in_production_mode(tmp_path):
    assert "PROMETHEUS_MULTIPROC_DIR" not in run.web_env(Settings(), environ={})
    env = run.web_env(Settings(redis_url="redis://127.0.0.1:6379/13"), environ={})
    assert env["PROMETHEUS_MULTIPROC_DIR"].endswith("var/prometheus-multiproc")
    given = run.web_env(Settings(redis_url="redis://x/1", prometheus_multiproc_dir=str(tmp_path)),
                        environ={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    assert given["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)


def test_health_web_reports_an_unreachable_server():
    ok, message = run.health_web(Settings(gunicorn_bind="127.0.0.1:1"), timeout=1)
    assert not ok and "127.0.0.1:1/healthz" in message


def test_rq_gets_the_url_in_its_environment_and_no_multiprocess_directory():
    env = run.rq_env(Settings(redis_url="redis://:pw@127.0.0.1:6379/13"),
                     environ={"PROMETHEUS_MULTIPROC_DIR": "/tmp/x", "HOME": "/root"})
    assert env["RQ_REDIS_URL"] == "redis://:pw@127.0.0.1:6379/13" and "PROMETHEUS_MULTIPROC_DIR" not in env
    assert env["HOME"] == "/root"


def test_the_stream_process_needs_redis_and_has_a_health_check():
    assert run.command("stream") == ["python", "-m", "workers.run", "stream"]
    assert run.stream_argv()[1:] == ["-m", "app.stream"]
    assert run.parse(["health", "stream"]).kind == "stream"
    with pytest.raises(SystemExit, match="REDIS_URL is not set"):
        run.run_stream(Settings())  # embedded mode: nothing is published, so no stream runs
    ok, message = run.health_stream(Settings(stream_bind="127.0.0.1:1"), timeout=1)
    assert not ok and "127.0.0.1:1/stream/healthz" in message
