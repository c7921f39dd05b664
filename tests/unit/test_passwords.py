"""Password hashing and policy."""

from __future__ import annotations

import pytest

from common.auth import passwords


def test_hash_is_argon2id_with_the_lambda_profile_and_verifies():
    hashed = passwords.hash_password("Correct-Horse-Battery-9")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password(hashed, "Correct-Horse-Battery-9")
    assert not passwords.verify_password(hashed, "correct-horse-battery-9")
    assert not passwords.needs_rehash(hashed)


def test_same_password_hashes_differently_each_time():
    assert passwords.hash_password("same-password-1") != passwords.hash_password("same-password-1")


@pytest.mark.parametrize("bad_hash", ["", "plain", "$argon2id$v=19$m=1,t=1,p=1$bad$bad",
                                      "$2b$12$abcdefghijklmnopqrstuv"])
def test_malformed_hashes_never_verify(bad_hash):
    assert passwords.verify_password(bad_hash, "anything") is False
    assert passwords.needs_rehash(bad_hash) is True


def test_weaker_parameters_need_a_rehash():
    from argon2 import PasswordHasher

    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("x" * 12)
    assert passwords.needs_rehash(old)


@pytest.mark.parametrize(("password", "problem"), [
    ("short1!", "at least 10"),
    ("password1234", "too common"),
    ("QWERTYUIOP", "too common"),
    ("x" * 300, "at most"),
])
def test_policy_refuses(password, problem):
    problems = passwords.policy_problems(password, email="a@example.com")
    assert any(problem in p for p in problems), problems


def test_policy_refuses_the_email_its_local_part_and_the_username():
    email = "Someone.Long@Example.com"
    assert passwords.policy_problems("someone.long@example.com", email=email)
    assert passwords.policy_problems("SOMEONE.LONG", email=email)
    assert passwords.policy_problems("the_username", email=email, username="The_Username")


def test_policy_accepts_a_long_uncommon_password():
    assert passwords.policy_problems("Correct-Horse-Battery-9", email="a@example.com",
                                     username="ada") == []


def test_the_common_list_ships_a_few_hundred_lower_case_entries():
    common = passwords.common_passwords()
    assert len(common) >= 300
    assert all(p == p.lower() and p.strip() == p for p in common)


def test_burn_time_runs_one_full_argon2_verification_like_a_wrong_password(monkeypatch):
    verified: list[tuple[str, str]] = []
    real_verify = passwords.verify_password

    def counting_verify(password_hash: str, password: str) -> bool:
        verified.append((password_hash, password))
        return real_verify(password_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting_verify)
    passwords.burn_time("whatever-password")
    # One verification against a real hash made with today's parameters, the same work a login
    # with a wrong password costs, and it matched nothing.
    assert len(verified) == 1
    dummy, tried = verified[0]
    assert tried == "whatever-password"
    assert dummy.startswith("$argon2id$") and not passwords.needs_rehash(dummy)
    assert not real_verify(dummy, "whatever-password")
