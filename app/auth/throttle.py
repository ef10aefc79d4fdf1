"""Slowing down password guessing per account without letting anyone lock the owner out.

Layers (the per-IP limit over all accounts is Flask-Limiter's decorator on the route):

* **Per account and network, a growing delay.** For one account from one network (an IPv4
  address or an IPv6 /64), the first ``free`` failures in ``window`` cost nothing; each further
  failure makes that pair wait ``2**(n - free)`` seconds (1, 2, 4, ... at most ``max_delay_s``)
  before its next attempt. An attempt inside the delay is answered at once, without checking the
  password and without extending the delay. An attacker's failures never delay the owner on
  another network; on the attacker's own network (a shared NAT) the owner waits at most
  ``max_delay_s``.
* **Per account over all networks, a budget.** ``total`` failures in its window from browsers the
  account has never signed in from (a botnet spreading guesses over many addresses); past it,
  such browsers wait for the window to end.
* **Known browsers are counted apart.** A successful sign-in leaves a signed device cookie
  (OWASP's "device cookie" pattern). A browser presenting a valid one for the account is charged
  to its own key, with the same growing delay, and is not subject to the two layers above: the
  owner's usual browsers keep working during an attack, and guesses with a stolen device cookie
  are still slowed on that cookie's key.

Counters live in Flask-Limiter's storage (memory in embedded mode, Redis in production), so every
web process sees the same delays.
"""
from __future__ import annotations

import hashlib
import ipaddress
import math
import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse

DEVICE_COOKIE = "cw_device"
DEVICE_MAX_AGE_S = 90 * 86400


@dataclass(frozen=True)
class DelayPolicy:
    free: int
    window_s: int
    max_delay_s: int

    @classmethod
    def from_settings(cls, limit: str, max_delay_s: int) -> "DelayPolicy":
        item = parse(limit)
        return cls(free=item.amount, window_s=int(item.get_expiry()), max_delay_s=max_delay_s)

    def delay_after(self, failures: int) -> int:
        """Seconds to wait after the ``failures``-th failure in the window (0 while still free)."""
        if failures < self.free:
            return 0
        return int(min(self.max_delay_s, 2 ** min(failures - self.free, 30)))


@dataclass(frozen=True)
class Budget:
    total: int
    window_s: int

    @classmethod
    def from_settings(cls, limit: str) -> "Budget":
        item = parse(limit)
        return cls(total=item.amount, window_s=int(item.get_expiry()))


def account_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()[:32]


class LoginThrottle:
    def __init__(self, storage, prefix: str, policy: DelayPolicy):
        self.storage = storage
        self.prefix = prefix
        self.policy = policy

    def _keys(self, key: str) -> tuple[str, str]:
        return f"{self.prefix}/{key}/failures", f"{self.prefix}/{key}/delay"

    def wait_s(self, key: str) -> int:
        """Whole seconds until ``key`` may try again; 0 when it may try now."""
        _, delay_key = self._keys(key)
        if self.storage.get(delay_key) <= 0:
            return 0
        return max(1, math.ceil(self.storage.get_expiry(delay_key) - time.time()))

    def failed(self, key: str) -> int:
        """Record a failure; returns the delay (seconds) it imposes."""
        failures_key, delay_key = self._keys(key)
        n = self.storage.incr(failures_key, self.policy.window_s)
        delay = self.policy.delay_after(n)
        if delay:
            self.storage.clear(delay_key)
            self.storage.incr(delay_key, delay)
        return delay

    def budget_wait_s(self, key: str, budget: "Budget") -> int:
        """Seconds until the account-wide budget ``key`` allows attempts again (0: it does)."""
        stored = f"{self.prefix}/{key}/failures"
        if self.storage.get(stored) < budget.total:
            return 0
        return max(1, math.ceil(self.storage.get_expiry(stored) - time.time()))

    def spend_budget(self, key: str, budget: "Budget") -> None:
        self.storage.incr(f"{self.prefix}/{key}/failures", budget.window_s)

    def reset(self, key: str) -> None:
        for k in self._keys(key):
            self.storage.clear(k)


def network_of(ip: str) -> str:
    """The unit one party controls: an IPv4 address, or the /64 an IPv6 address lies in."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return "unknown"
    if addr.version == 6:
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return str(addr)


@dataclass(frozen=True)
class AttemptKeys:
    delay_key: str               # the growing delay this attempt is charged to
    budget_key: str | None       # the account-wide budget (None for a known device)


def attempt_keys(email: str, ip: str, device: dict | None) -> AttemptKeys:
    """Which counters an attempt for ``email`` from ``ip`` (with its device cookie, if any) uses."""
    digest = account_digest(email)
    if device and device.get("a") == digest and isinstance(device.get("n"), str):
        return AttemptKeys(f"login-device:{device['n']}", None)
    return AttemptKeys(f"login-account:{digest}:net:{network_of(ip)}", f"login-account:{digest}:all")


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="cw-login-device")


def read_device(secret_key: str, cookie: str | None) -> dict | None:
    if not cookie:
        return None
    try:
        data = _serializer(secret_key).loads(cookie, max_age=DEVICE_MAX_AGE_S)
    except BadSignature:
        return None
    return data if isinstance(data, dict) else None


def new_device(secret_key: str, email: str) -> str:
    """A device cookie value for a browser that just signed in to ``email``."""
    return _serializer(secret_key).dumps({"a": account_digest(email), "n": secrets.token_urlsafe(16)})
