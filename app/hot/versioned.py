"""What the versioned caches of hot state share: keys made of checked parts, and a TTL.

``app.hot.views`` keeps JSON views and ``app.hot.blobs`` raw bytes, both under
``{prefix}:{space}:{area}:{key}`` and both read by naming the version wanted, so neither ever needs
invalidating; the TTL only bounds how long entries nobody asks for stay in memory."""
from __future__ import annotations

import re

_PART = re.compile(r"^[A-Za-z0-9_./:|-]{1,128}$")


def part(value: str, what: str) -> str:
    if not isinstance(value, str) or not _PART.match(value):
        raise ValueError(f"{what} must be 1-128 letters, digits or ._/:|-, got {value!r}")
    return value


def checked_version(version) -> bytes:
    if not isinstance(version, str) or not version:
        raise ValueError(f"version must be a non-empty string, got {version!r}")
    return version.encode()


class VersionedCache:
    space = ""           # the key segment after the prefix: "views", "blobs"
    area_name = "area"   # how the area is named in an error message
    default_ttl_s = 300

    def __init__(self, store, prefix: str = "cw", ttl_s: int | None = None):
        ttl_s = self.default_ttl_s if ttl_s is None else ttl_s
        if not isinstance(ttl_s, int) or isinstance(ttl_s, bool) or ttl_s < 1:
            raise ValueError(f"ttl_s must be a positive number of seconds, got {ttl_s!r}")
        self.store, self.prefix, self.ttl_s = store, prefix, ttl_s

    def key(self, area: str, key: str) -> str:
        return f"{self.prefix}:{self.space}:{part(area, self.area_name)}:{part(key, 'key')}"
