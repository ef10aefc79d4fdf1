"""Sign-in sessions checked from hot state: a live session costs no database query on most requests.

Every Dash request (an interval tick included) runs the session check. The database row
(``app.auth.sessions``) stays the truth; this store keeps, per session token digest, what the check
needs (the user's id, e-mail, role and active flag, and when the row was last seen), so a request
within ``TTL_S`` of the last database check answers from here.

Revocation takes effect at once through a per-user **session version**:

* ``{prefix}:sessions:{digest}`` -> JSON ``{"uid", "email", "role", "active", "seen", "ver"}``, TTL ``TTL_S``;
* ``{prefix}:sessions:user:{uid}`` -> an integer, no TTL, bumped on every revocation of the user's
  sessions (deactivation, role change, password reset, deletion) and on sign-out.

An entry counts only while its ``ver`` equals the user's current version, so one ``INCR`` invalidates
every cached session of the user, whichever web worker cached it. The version is read *before* the
database check that fills an entry and bumped *after* the revoking transaction commits (and once
before, so nothing cached earlier is served while it runs): an entry written from a read that raced
with the revocation carries the old version and is never served.

The TTL equals ``app.auth.sessions.TOUCH_EVERY``, so ``last_seen_at`` is still written about once a
minute per session and the idle timeout is checked against it. No secret is stored: the key is the
token's SHA-256 digest (as in the table) and the value holds no password hash.

The store is ``app.hot.kv_store``: Redis in production, this process's ``MemoryStore`` when embedded.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

TTL_S = 60
# GET the entry and, from its uid, the user's session version: one round trip per request
_READ_LUA = """
local doc = redis.call('GET', KEYS[1])
if not doc then return nil end
local ok, parsed = pcall(cjson.decode, doc)
if not ok or type(parsed) ~= 'table' or parsed['uid'] == nil then return nil end
local ver = redis.call('GET', ARGV[1] .. tostring(parsed['uid']))
return {doc, ver or '0'}
"""
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def _digest(digest: str) -> str:
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise ValueError("digest must be a SHA-256 hex digest (64 lowercase hex characters)")
    return digest


def _uid(user_id) -> int:
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id < 1:
        raise ValueError(f"user_id must be a positive integer, got {user_id!r}")
    return user_id


class SessionCache:
    def __init__(self, store, prefix: str = "cw", ttl_s: int = TTL_S):
        if not isinstance(ttl_s, int) or isinstance(ttl_s, bool) or ttl_s < 1:
            raise ValueError(f"ttl_s must be a positive number of seconds, got {ttl_s!r}")
        self.store, self.prefix, self.ttl_s = store, prefix, ttl_s

    def _key(self, digest: str) -> str:
        return f"{self.prefix}:sessions:{_digest(digest)}"

    def _ver_key(self, user_id: int) -> str:
        return f"{self.prefix}:sessions:user:{_uid(user_id)}"

    def version(self, user_id: int) -> int:
        raw = self.store.get(self._ver_key(user_id))
        return int(raw) if raw is not None else 0

    def _fetch(self, digest: str):
        """(entry, the user's current version) in one round trip on Redis (a short Lua script), two GETs
        on a store without scripting."""
        key = self._key(digest)
        if hasattr(self.store, "register_script"):
            if getattr(self, "_script", None) is None:
                self._script = self.store.register_script(_READ_LUA)
            got = self._script(keys=[key], args=[f"{self.prefix}:sessions:user:"])
            return (None, None) if not got else (got[0], got[1])
        raw = self.store.get(key)
        if raw is None:
            return None, None
        try:
            return raw, self.version(int(json.loads(raw)["uid"]))
        except (ValueError, KeyError, TypeError):
            return None, None

    def read(self, digest: str) -> dict | None:
        """The cached check of this session, or None (missing, expired, or its user's sessions revoked since)."""
        raw, current = self._fetch(digest)
        if raw is None:
            return None
        try:
            doc = json.loads(raw)
            uid, ver = int(doc["uid"]), int(doc["ver"])
            seen = datetime.fromisoformat(doc["seen"])
            current = int(current or 0)
        except (ValueError, KeyError, TypeError):
            return None
        if seen.tzinfo is None or ver != current:
            return None
        return {"uid": uid, "email": str(doc["email"]), "role": str(doc["role"]),
                "active": bool(doc["active"]), "seen": seen.astimezone(timezone.utc)}

    def write(self, digest: str, *, user_id: int, email: str, role: str, active: bool, seen: datetime,
              version: int) -> None:
        """Cache a database check; ``version`` is the user's version read *before* that check."""
        if not isinstance(seen, datetime) or seen.tzinfo is None:
            raise ValueError("seen must be a timezone-aware datetime")
        doc = {"uid": _uid(user_id), "email": email, "role": role, "active": bool(active),
               "seen": seen.astimezone(timezone.utc).isoformat(), "ver": int(version)}
        self.store.set(self._key(digest), json.dumps(doc), ex=self.ttl_s)

    def forget(self, digest: str) -> None:
        """Drop one session's entry (its sign-out)."""
        self.store.delete(self._key(digest))

    def revoke_user(self, user_id: int) -> int:
        """Invalidate every cached session of a user at once; returns the new version."""
        return int(self.store.incr(self._ver_key(user_id)))
