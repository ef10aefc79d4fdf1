"""The login delay policy, its keys and the device cookie (pure parts of app.auth.throttle)."""
import time

import pytest
from limits.storage import MemoryStorage

from app.auth.throttle import (Budget, DelayPolicy, LoginThrottle, account_digest, attempt_keys, network_of,
                               new_device, read_device)


def test_delay_doubles_after_the_free_failures_up_to_the_cap():
    policy = DelayPolicy.from_settings("5 per 15 minutes", max_delay_s=60)
    assert (policy.free, policy.window_s) == (5, 900)
    assert [policy.delay_after(n) for n in range(1, 14)] == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert policy.delay_after(10_000) == 60


@pytest.mark.parametrize("ip, network", [("203.0.113.7", "203.0.113.7"), ("::ffff:203.0.113.7", "203.0.113.7"),
                                         ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
                                         ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"), ("garbage", "unknown")])
def test_networks_are_addresses_or_ipv6_64s(ip, network):
    assert network_of(ip) == network


def test_attempts_are_charged_per_account_and_network_unless_the_device_is_known():
    secret = "s" * 32
    anon = attempt_keys("Ann@Example.com ", "203.0.113.7", None)
    assert anon.delay_key == f"login-account:{account_digest('ann@example.com')}:net:203.0.113.7"
    assert anon.budget_key == f"login-account:{account_digest('ann@example.com')}:all"
    device = read_device(secret, new_device(secret, "ann@example.com"))
    known = attempt_keys("ann@example.com", "203.0.113.7", device)
    assert known.delay_key.startswith("login-device:") and known.budget_key is None
    # a device cookie for another account, a forged or a foreign-key one is worth nothing
    assert attempt_keys("bob@example.com", "203.0.113.7", device).budget_key is not None
    assert read_device(secret, new_device("another-secret-key-xx", "ann@example.com")) is None
    assert read_device(secret, "garbage") is None and read_device(secret, None) is None


def test_throttle_refuses_inside_the_delay_without_extending_it():
    guard = LoginThrottle(MemoryStorage(), "cw:ratelimit", DelayPolicy(free=2, window_s=60, max_delay_s=60))
    assert guard.failed("k") == 0 and guard.wait_s("k") == 0
    assert guard.failed("k") == 1 and guard.wait_s("k") == 1
    time.sleep(1.05)
    assert guard.wait_s("k") == 0
    assert guard.failed("k") == 2 and 1 <= guard.wait_s("k") <= 2
    guard.reset("k")
    assert guard.wait_s("k") == 0


def test_budget_closes_after_total_failures():
    guard = LoginThrottle(MemoryStorage(), "cw:ratelimit", DelayPolicy(free=5, window_s=60, max_delay_s=60))
    budget = Budget.from_settings("3 per minute")
    for _ in range(3):
        assert guard.budget_wait_s("all", budget) == 0
        guard.spend_budget("all", budget)
    assert 1 <= guard.budget_wait_s("all", budget) <= 60
