"""The stream's settings: read from the environment, checked with a message naming the variable."""
import pytest

from app.settings import Settings


def test_stream_settings_from_the_environment():
    s = Settings.from_env({"STREAM_BIND": "0.0.0.0:9000", "STREAM_QUEUE_MAX": "8", "STREAM_HEARTBEAT_S": "0.5",
                           "STREAM_MAX_CONNECTIONS": "10", "STREAM_RECHECK_S": "30"})
    assert (s.stream_bind, s.stream_queue_max, s.stream_heartbeat_s, s.stream_max_connections,
            s.stream_recheck_s) == ("0.0.0.0:9000", 8, 0.5, 10, 30.0)
    d = Settings()
    assert (d.stream_bind, d.stream_queue_max, d.stream_heartbeat_s) == ("127.0.0.1:8060", 256, 20.0)


@pytest.mark.parametrize("env, name", [
    ({"STREAM_BIND": "8060"}, "STREAM_BIND"),
    ({"STREAM_QUEUE_MAX": "0"}, "STREAM_QUEUE_MAX"),
    ({"STREAM_QUEUE_MAX": "lots"}, "STREAM_QUEUE_MAX"),
    ({"STREAM_HEARTBEAT_S": "0"}, "STREAM_HEARTBEAT_S"),
    ({"STREAM_HEARTBEAT_S": "soon"}, "STREAM_HEARTBEAT_S"),
    ({"STREAM_RECHECK_S": "99999"}, "STREAM_RECHECK_S"),
    ({"STREAM_MAX_CONNECTIONS": "-1"}, "STREAM_MAX_CONNECTIONS"),
])
def test_bad_stream_settings_name_the_variable(env, name):
    with pytest.raises(ValueError, match=name):
        Settings.from_env(env)
