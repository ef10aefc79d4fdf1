"""The one password policy, and hashing that costs the same whether or not the account exists.

:func:`password_problem` is used everywhere a password is set (create, change, CLI). It checks
length and asks zxcvbn (Dropbox's estimator, with its lists of common passwords, keyboard
patterns, repeats and sequences) how guessable the password is, counting the user's own
e-mail as a known word.
"""
from __future__ import annotations

import secrets

from werkzeug.security import check_password_hash
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 1024
# zxcvbn's 0..4 scale: 3 is "safely unguessable: moderate protection from offline slow-hash scenario".
MIN_SCORE = 3
# zxcvbn's run time grows with length; the first characters decide the score of any realistic password.
ZXCVBN_MAX = 72
# The hash of a random password nobody knows, with werkzeug's scrypt parameters. An unknown
# e-mail is checked against it so both answers cost one scrypt (tests assert the parameters
# stay those of set_password()).
DUMMY_HASH = ("scrypt:32768:8:1$DGm1fct75cvQUuvw$64723ca4e1222fd2f650d23981bd20aef7096edaaa64d76cb32a868e375e0504"
              "e9aca458519dcfcf3622da35833f726fe12be426686ab87a636c4b526c81bc5b")


def password_problem(password, *, email: str | None = None) -> str | None:
    """Why ``password`` is refused (a message naming the field), or None when it is acceptable."""
    if not isinstance(password, str):
        return f"password must be text, got {type(password).__name__}"
    if not password.strip():
        return "password must not be empty or only spaces"
    if len(password) < MIN_LENGTH:
        return f"password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"password must be at most {MAX_LENGTH} characters"
    words = ["candlewise"]
    if email:
        local, _, domain = email.partition("@")
        words += [email, local, *domain.split(".")]
    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=words, max_length=ZXCVBN_MAX)
    if result["score"] < MIN_SCORE:
        feedback = result.get("feedback") or {}
        hint = " ".join(x for x in [feedback.get("warning") or "", *(feedback.get("suggestions") or [])] if x)
        return "password is too easy to guess" + (f": {hint}" if hint else "; use a longer, less common passphrase")
    return None


def burn_a_hash(password: str) -> None:
    """Do the work of one password check for an account that does not exist (the answer is always no)."""
    check_password_hash(DUMMY_HASH, password if isinstance(password, str) else "")


def generate_password() -> str:
    """A random password an admin hands over once (160 bits from ``secrets``; passes the policy)."""
    return secrets.token_urlsafe(20)
