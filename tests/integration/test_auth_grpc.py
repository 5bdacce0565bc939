"""The auth service over real gRPC, with real SecantusDB, RabbitMQ and Redis."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import grpc
import pymongo
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from common.errors import ErrorCode
from common.grpc_errors import from_rpc_error
from svc_auth.adapters.passwords import LegacyScrypt
from svc_auth.bootstrap import bootstrap
from svc_auth.config import AuthSettings
from tests.support import service_tokens
from tests.support.passwords import cheap_passwords
from tests.support.tap import EventTap
from ticketing.auth.v1 import auth_pb2, auth_pb2_grpc

pytestmark = pytest.mark.integration


@pytest.fixture
async def auth(env):
    process = bootstrap(AuthSettings.from_env(env), hasher=cheap_passwords())
    port = await process.start("127.0.0.1", 0)
    channel = service_tokens.channel(env, f"127.0.0.1:{port}")
    yield channel
    await channel.close()
    await process.stop()


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def call_error(coro) -> tuple[grpc.StatusCode, object]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await coro
    return info.value.code(), from_rpc_error(info.value)


async def test_sign_up_sign_in_get_user_change_password_sign_out(auth):
    stub = auth_pb2_grpc.AuthServiceStub(auth)
    up = await stub.SignUp(
        auth_pb2.SignUpRequest(email=" Ann@Example.COM ", password="s3cret-pass")
    )
    assert up.user.email == "ann@example.com" and up.user.version == 0 and up.token

    got = await stub.GetUser(auth_pb2.GetUserRequest(id=up.user.id), metadata=bearer(up.token))
    assert got.user == up.user

    signed = await stub.SignIn(
        auth_pb2.SignInRequest(email="ann@example.com", password="s3cret-pass")
    )
    assert signed.user.id == up.user.id and signed.token != up.token

    changed = await stub.ChangePassword(
        auth_pb2.ChangePasswordRequest(current_password="s3cret-pass", new_password="n3w-password"),
        metadata=bearer(signed.token),
    )
    assert changed.user.version == 1 and changed.token
    code, error = await call_error(
        stub.SignIn(auth_pb2.SignInRequest(email="ann@example.com", password="s3cret-pass"))
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED and error.message == "Invalid credentials"
    again = await stub.SignIn(
        auth_pb2.SignInRequest(email="ann@example.com", password="n3w-password")
    )
    # Every session from before the change is over, the caller's included; the caller goes on
    # with the token the change returned.
    for ended in (up.token, signed.token):
        code, error = await call_error(
            stub.GetUser(auth_pb2.GetUserRequest(id=up.user.id), metadata=bearer(ended))
        )
        assert code == grpc.StatusCode.UNAUTHENTICATED and error.message == "Token revoked"
    await stub.GetUser(auth_pb2.GetUserRequest(id=up.user.id), metadata=bearer(changed.token))

    await stub.SignOut(auth_pb2.SignOutRequest(), metadata=bearer(changed.token))
    code, error = await call_error(
        stub.GetUser(auth_pb2.GetUserRequest(id=up.user.id), metadata=bearer(changed.token))
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED and error.message == "Token revoked"
    # The other session is untouched.
    await stub.GetUser(auth_pb2.GetUserRequest(id=up.user.id), metadata=bearer(again.token))


async def test_errors_carry_code_and_field(auth):
    stub = auth_pb2_grpc.AuthServiceStub(auth)
    code, error = await call_error(
        stub.SignUp(auth_pb2.SignUpRequest(email="nope", password="s3cret-pass"))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert (error.code, error.field) == (ErrorCode.BAD_USER_INPUT, "email")
    code, error = await call_error(
        stub.SignUp(auth_pb2.SignUpRequest(email="ok@example.com", password="short"))
    )
    assert (error.code, error.field) == (ErrorCode.BAD_USER_INPUT, "password")

    await stub.SignUp(auth_pb2.SignUpRequest(email="ok@example.com", password="s3cret-pass"))
    code, error = await call_error(
        stub.SignUp(auth_pb2.SignUpRequest(email="OK@example.com", password="s3cret-pass"))
    )
    assert code == grpc.StatusCode.ALREADY_EXISTS
    assert (error.code, error.message) == (ErrorCode.CONFLICT, "Email in use")

    code, error = await call_error(stub.GetUser(auth_pb2.GetUserRequest(id="x")))
    assert code == grpc.StatusCode.UNAUTHENTICATED


async def test_racing_sign_ups_for_one_email_create_one_account(auth, env):
    stub = auth_pb2_grpc.AuthServiceStub(auth)
    results = await asyncio.gather(
        *(
            stub.SignUp(auth_pb2.SignUpRequest(email="race@example.com", password="s3cret-pass"))
            for _ in range(8)
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, auth_pb2.SignUpResponse)]
    losers = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1
    assert {e.code() for e in losers} == {grpc.StatusCode.ALREADY_EXISTS}


async def test_user_created_and_updated_events_are_published(auth, env, amqp_url, namespace):
    tap = EventTap(amqp_url, namespace)
    try:
        stub = auth_pb2_grpc.AuthServiceStub(auth)
        up = await stub.SignUp(
            auth_pb2.SignUpRequest(email="ev@example.com", password="s3cret-pass")
        )
        await stub.ChangePassword(
            auth_pb2.ChangePasswordRequest(
                current_password="s3cret-pass", new_password="n3w-pass!"
            ),
            metadata=bearer(up.token),
        )
        seen = await asyncio.to_thread(tap.wait_for, 2)
    finally:
        tap.close()
    assert [s.routing_key for s in seen] == ["user.created", "user.updated"]
    assert json.loads(seen[0].body) == {"id": up.user.id, "email": "ev@example.com"}
    assert json.loads(seen[1].body) == {"id": up.user.id, "email": "ev@example.com", "version": 1}
    assert seen[0].properties.app_id == "auth"
    assert all("password" not in s.body.decode() for s in seen)


async def test_health_and_reflection_are_served(auth):
    health = health_pb2_grpc.HealthStub(auth)
    reply = await health.Check(
        health_pb2.HealthCheckRequest(service="ticketing.auth.v1.AuthService")
    )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING

    stub = reflection_pb2_grpc.ServerReflectionStub(auth)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    names = set()
    async for response in stub.ServerReflectionInfo(iter([request])):
        names |= {s.name for s in response.list_services_response.service}
    assert {"ticketing.auth.v1.AuthService", "grpc.health.v1.Health"} <= names


@pytest.fixture
async def users(env, mongo_url):
    """Auth's users collection, as the service stores it."""
    client = pymongo.AsyncMongoClient(mongo_url)
    yield client[f"{env['TICKETING_NAMESPACE']}_auth"].users
    await client.close()


async def test_a_legacy_scrypt_hash_becomes_argon2id_at_the_next_sign_in(auth, users):
    # A user from before argon2id: their stored hash is scrypt.
    await users.insert_one(
        {
            "_id": "legacy-user",
            "email": "old@example.com",
            "password_hash": LegacyScrypt.encode("s3cret-pass", n=2**12),
            "created_at": datetime.now(UTC),
            "version": 0,
        }
    )
    stub = auth_pb2_grpc.AuthServiceStub(auth)

    code, _ = await call_error(
        stub.SignIn(auth_pb2.SignInRequest(email="old@example.com", password="wrong-pass"))
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert (await users.find_one({"_id": "legacy-user"}))["password_hash"].startswith("scrypt$")

    signed = await stub.SignIn(
        auth_pb2.SignInRequest(email="old@example.com", password="s3cret-pass")
    )

    assert signed.user.id == "legacy-user" and signed.user.version == 0
    stored = await users.find_one({"_id": "legacy-user"})
    assert stored["password_hash"].startswith("$argon2id$")
    assert stored["version"] == 0  # the same password: not a change anyone else hears of
    # The new hash holds the same password.
    await stub.SignIn(auth_pb2.SignInRequest(email="old@example.com", password="s3cret-pass"))
    code, _ = await call_error(
        stub.SignIn(auth_pb2.SignInRequest(email="old@example.com", password="wrong-pass"))
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED
