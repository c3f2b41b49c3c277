import pytest
from argon2 import PasswordHasher

from dealbridge.errors import ConfigError
from dealbridge.web.security.passwords import MAX_PASSWORD_LENGTH, Passwords

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def test_hash_is_argon2id_and_salted(passwords: Passwords) -> None:
    first, second = passwords.hash("correct horse battery"), passwords.hash("correct horse battery")
    assert first.startswith("$argon2id$")
    assert first != second
    assert "correct horse battery" not in first


def test_verify_accepts_the_right_password_only(passwords: Passwords) -> None:
    stored = passwords.hash("correct horse battery")
    assert passwords.verify(stored, "correct horse battery").ok
    assert not passwords.verify(stored, "correct horse battery!").ok
    assert not passwords.verify(stored, "").ok


def test_verify_without_a_hash_fails_like_a_wrong_password(passwords: Passwords) -> None:
    assert passwords.verify(None, "anything at all") == passwords.verify(
        passwords.hash("something else"), "anything at all"
    )


def test_garbage_hash_fails_closed(passwords: Passwords) -> None:
    assert not passwords.verify("not-a-hash", "correct horse battery").ok


def test_outdated_parameters_are_rehashed_on_success(passwords: Passwords) -> None:
    old = CHEAP.hash("correct horse battery")
    check = passwords.verify(old, "correct horse battery")
    assert check.ok
    assert check.new_hash is not None
    assert check.new_hash != old
    assert passwords.verify(check.new_hash, "correct horse battery").new_hash is None


def test_current_parameters_are_not_rehashed(passwords: Passwords) -> None:
    assert (
        passwords.verify(passwords.hash("correct horse battery"), "correct horse battery").new_hash
        is None
    )


def test_wrong_password_on_old_hash_is_not_rehashed(passwords: Passwords) -> None:
    check = passwords.verify(CHEAP.hash("correct horse battery"), "wrong password!")
    assert not check.ok
    assert check.new_hash is None


@pytest.mark.parametrize("password", ["", "short", "9 chars!!"])
def test_short_passwords_are_refused(passwords: Passwords, password: str) -> None:
    with pytest.raises(ConfigError, match="at least 10"):
        passwords.hash(password)


def test_overlong_passwords_are_refused_and_never_verify(passwords: Passwords) -> None:
    huge = "x" * (MAX_PASSWORD_LENGTH + 1)
    with pytest.raises(ConfigError, match="at most"):
        passwords.hash(huge)
    assert not passwords.verify(passwords.hash("x" * 20), huge).ok
