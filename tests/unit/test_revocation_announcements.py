"""What auth publishes on `<ns>:revocations` and how a gateway reads it (common.revocations):
who a revocation concerns, never a credential; anything else on the channel is ignored."""

from __future__ import annotations

import json

import pytest

from common.jwt import Claims
from common.revocations import Announced, SessionsEnded, TokenRevoked, announcement


def claims(jti: str = "j1", sub: str = "u1", gen: int = 0) -> Claims:
    return Claims(sub=sub, email="a@example.com", iat=0, exp=10, jti=jti, gen=gen)


def test_a_sign_out_is_read_back_and_refuses_only_that_token_of_that_user() -> None:
    read = Announced.parse(announcement(TokenRevoked("j1", "u1", expires_at=99)))
    assert read == Announced("u1", jti="j1")
    assert read.refuses(claims("j1"))
    assert not read.refuses(claims("j2"))
    assert not read.refuses(claims("j1", sub="u2"))


def test_ended_sessions_are_read_back_and_refuse_the_generations_below() -> None:
    read = Announced.parse(announcement(SessionsEnded("u1", 3, expires_at=99)))
    assert read == Announced("u1", generation=3)
    assert [read.refuses(claims(gen=gen)) for gen in (0, 2, 3, 4)] == [True, True, False, False]
    assert not read.refuses(claims(sub="u2"))


def test_an_announcement_carries_no_expiry_token_or_email() -> None:
    fields = json.loads(announcement(TokenRevoked("j1", "u1", expires_at=99)))
    assert set(fields) == {"user", "jti"}


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[]",
        b"null",
        b'{"jti": "j1"}',
        b'{"user": 1, "jti": "j1"}',
        b'{"user": "u1"}',
        b'{"user": "u1", "generation": "3"}',
        b'{"user": "u1", "generation": true}',
        b"\xff\xfe",
    ],
)
def test_anything_else_on_the_channel_is_ignored(data: bytes) -> None:
    assert Announced.parse(data) is None
