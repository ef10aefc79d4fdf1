"""Clearing a cache area on the real Redis removes that area's keys and nothing else."""
import pytest

from app.hot.cache_admin import clear

pytestmark = pytest.mark.integration


def test_clear_removes_only_the_area(redis_client):
    keep = ["cw:system:stop", "cw:breaker:binance:pybreaker:state", "cw:signals:BTC/USDT", "other:live:x",
            "cw:catalog"]
    gone = [f"cw:live:candles:demo:S{i}:1h" for i in range(1203)] + ["cw:live:ticker:demo:BTC/USDT"]
    for key in keep + gone:
        redis_client.set(key, "1")
    assert clear(redis_client, "cw", "live", batch=500) == len(gone)
    assert all(redis_client.exists(k) for k in keep) and not any(redis_client.exists(k) for k in gone)
    assert clear(redis_client, "cw", "catalog") == 1 and redis_client.exists("cw:signals:BTC/USDT")


@pytest.mark.parametrize("area", ["system", "breaker", "", "*", "live:*", "ratelimit"])
def test_other_areas_are_refused(redis_client, area):
    redis_client.set("cw:system:stop", "1")
    with pytest.raises(ValueError, match="area"):
        clear(redis_client, "cw", area)
    assert redis_client.exists("cw:system:stop")
