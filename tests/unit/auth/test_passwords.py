"""The password policy and the dummy hash used for unknown accounts."""
import pytest
from werkzeug.security import generate_password_hash

from app.auth.passwords import DUMMY_HASH, MIN_LENGTH, burn_a_hash, password_problem


@pytest.mark.parametrize("password, expected", [
    (" " * 12, "only spaces"),
    ("", "only spaces"),
    ("short1!", f"at least {MIN_LENGTH} characters"),
    ("1234567890", "too easy to guess"),
    ("qwertyuiop", "too easy to guess"),
    ("password123", "too easy to guess"),
    ("abcabcabcabc", "too easy to guess"),
    ("x" * 2000, "at most 1024 characters"),
    (1234567890, "must be text"),
    (None, "must be text"),
])
def test_weak_or_malformed_passwords_are_refused_with_the_reason(password, expected):
    problem = password_problem(password)
    assert problem is not None and expected in problem and problem.startswith("password")


def test_the_users_own_email_counts_as_a_known_word():
    assert password_problem("annabelle.smith2024", email="annabelle.smith2024@example.com") is not None
    assert password_problem("annabelle.smith2024") is None


@pytest.mark.parametrize("password", ["correct-horse-battery", "long-enough-pw", "Tr0ub4dor&3-staple-xk", "ÿü-ünïcødé-pässwörd"])
def test_good_passphrases_pass(password):
    assert password_problem(password, email="someone@example.com") is None


def test_dummy_hash_costs_what_a_real_hash_costs():
    """Same method and scrypt parameters as set_password(): unknown e-mails take as long as wrong passwords."""
    real = generate_password_hash("whatever-it-is", method="scrypt")
    assert DUMMY_HASH.split("$")[0] == real.split("$")[0]


def test_burn_a_hash_runs_one_scrypt(monkeypatch):
    import hashlib

    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(hashlib, "scrypt", lambda *a, **k: calls.append(k) or real(*a, **k))
    burn_a_hash("anything at all")
    burn_a_hash(None)
    assert len(calls) == 2 and calls[0]["n"] == 32768
