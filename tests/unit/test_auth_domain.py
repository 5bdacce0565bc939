from __future__ import annotations

from datetime import UTC, datetime

import pytest

from common.errors import InvalidInput
from svc_auth.domain import events
from svc_auth.domain.model import (
    MAX_EMAIL_LENGTH,
    User,
    check_password,
    normalise_email,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


# --- normalise_email ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("alice@example.com", "alice@example.com"),
        ("  Alice@Example.COM  ", "alice@example.com"),
        ("\tBOB@EXAMPLE.ORG\n", "bob@example.org"),
        ("first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk"),
    ],
)
def test_normalise_email_trims_and_lowercases(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_normalise_email_rejects_empty(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_email(raw)
    assert caught.value.field == "email"
    assert caught.value.message == "Email is required"


def test_normalise_email_rejects_none_as_required() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_email(None)  # type: ignore[arg-type]
    assert caught.value == InvalidInput("Email is required", field="email")


@pytest.mark.parametrize(
    "raw",
    [
        "alice",  # no @
        "alice.example.com",  # no @
        "alice@example",  # no dot in the domain
        "alice@example.",  # empty top-level label
        "@example.com",  # empty local part
        "alice@",  # empty domain
        "al ice@example.com",  # space inside
        "alice@exa mple.com",  # space inside the domain
        "alice@@example.com",  # two @
        "a@b@example.com",  # two @
    ],
)
def test_normalise_email_rejects_malformed(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_email(raw)
    assert caught.value.field == "email"
    assert caught.value.message == "Email must be valid"


def test_normalise_email_length_limit() -> None:
    domain = "@example.com"
    longest = "a" * (MAX_EMAIL_LENGTH - len(domain)) + domain
    assert len(longest) == MAX_EMAIL_LENGTH == 254
    assert normalise_email(longest) == longest

    too_long = "a" + longest
    with pytest.raises(InvalidInput) as caught:
        normalise_email(too_long)
    assert caught.value.field == "email"


def test_normalise_email_length_is_counted_after_trimming() -> None:
    domain = "@example.com"
    longest = "a" * (MAX_EMAIL_LENGTH - len(domain)) + domain
    assert normalise_email("   " + longest + "   ") == longest


def test_normalise_email_field_name_passes_through() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_email("nope", field="newEmail")
    assert caught.value.field == "newEmail"


# --- check_password -----------------------------------------------------------------------------


@pytest.mark.parametrize("length", [8, 9, 64, 128])
def test_check_password_accepts_8_to_128_characters(length: int) -> None:
    password = "p" * length
    assert check_password(password) == password


@pytest.mark.parametrize("length", [0, 1, 7, 129, 1000])
def test_check_password_rejects_outside_8_to_128(length: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_password("p" * length)
    assert caught.value.field == "password"
    assert caught.value.message == "Password must be between 8 and 128 characters"


def test_check_password_does_not_trim_or_change_the_password() -> None:
    password = "  spaced out  "
    assert check_password(password) == password


def test_check_password_rejects_non_strings() -> None:
    with pytest.raises(InvalidInput):
        check_password(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        check_password(12345678)  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["newPassword", "currentPassword"])
def test_check_password_field_name_passes_through(field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_password("short", field=field)
    assert caught.value.field == field


# --- User ---------------------------------------------------------------------------------------


def test_register_records_exactly_one_user_created() -> None:
    user = User.register("u-1", "alice@example.com", "hashed:x", NOW)

    assert user.id == "u-1"
    assert user.email == "alice@example.com"
    assert user.password_hash == "hashed:x"
    assert user.created_at == NOW
    assert user.version == 0
    assert user.events == [events.UserCreated(id="u-1", email="alice@example.com")]


def test_change_password_bumps_version_and_records_user_updated() -> None:
    user = User.register("u-1", "alice@example.com", "hashed:old", NOW)
    user.events.clear()

    user.change_password("hashed:new")

    assert user.password_hash == "hashed:new"
    assert user.version == 1
    assert user.events == [events.UserUpdated(id="u-1", email="alice@example.com", version=1)]


def test_change_password_ends_the_sessions_of_the_old_one() -> None:
    user = User.register("u-1", "alice@example.com", "hashed:old", NOW)
    assert user.session_generation == 0

    user.change_password("hashed:new")
    user.change_password("hashed:newer")

    assert user.session_generation == 2


def test_each_password_change_bumps_version_by_one() -> None:
    user = User(id="u-1", email="a@example.com", password_hash="h0", created_at=NOW, version=4)

    user.change_password("h1")
    user.change_password("h2")

    assert user.version == 6
    assert [e.version for e in user.events] == [5, 6]
    assert all(isinstance(e, events.UserUpdated) for e in user.events)


def test_events_do_not_take_part_in_equality() -> None:
    a = User(id="u-1", email="a@example.com", password_hash="h", created_at=NOW)
    b = User.register("u-1", "a@example.com", "h", NOW)
    assert a == b
