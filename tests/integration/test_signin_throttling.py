"""Sign-in throttling that a stranger cannot turn against the owner (issue 18), through the real
gateway (its own process) in front of auth (real gRPC, argon2id with cheap parameters), with
SecantusDB, RabbitMQ and the machine's Redis; and auth called straight over gRPC.

Auth counts attempts per account from unknown devices and refuses them past
SIGNIN_ACCOUNT_LIMIT before hashing; a device that signed in before (its `device` cookie, or
the `deviceToken` a non-browser client keeps) is counted on its own; the gateway counts
attempts per client address (X-Forwarded-For is believed from 127.0.0.1 under the default
TRUSTED_PROXIES, so a test can be many clients)."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest

from common.errors import ErrorCode
from common.grpc_errors import from_rpc_error
from svc_auth.adapters.hashing_pool import HashingPool
from svc_auth.bootstrap import bootstrap
from svc_auth.config import AuthSettings
from svc_auth.service_layer.signin_throttle import ACCOUNT_REFUSAL, DEVICE_REFUSAL
from tests.integration.test_gateway_rate_limits import (
    PASSWORD,
    Edge,
    edge_with,
    email,
    rate_limited,
    wrong_password,
)
from tests.support import service_tokens
from tests.support.passwords import CountedPasswords, cheap_passwords
from tests.support.servers import free_port
from ticketing.auth.v1 import auth_pb2, auth_pb2_grpc

pytestmark = pytest.mark.integration

ADDRESS_REFUSAL = "Too many sign-in attempts from this address."
SIGNIN = (
    "mutation($e: String!, $p: String!, $d: String) { signIn(input: {email: $e, password: $p, "
    "deviceToken: $d}) { user { id } deviceToken userErrors { code field } } }"
)


def throttled(**limits: str) -> dict[str, str]:
    """Auth's sign-in limits at their production values, but for `limits`."""
    return {
        "SIGNIN_ACCOUNT_LIMIT": "10",
        "SIGNIN_ACCOUNT_WINDOW_SECONDS": "900",
        "SIGNIN_DEVICE_LIMIT": "10",
        "SIGNIN_DEVICE_WINDOW_SECONDS": "900",
        **limits,
    }


async def sign_in(
    client: httpx.AsyncClient,
    who: str,
    password: str = PASSWORD,
    *,
    address: str,
    device: str | None = None,
) -> httpx.Response:
    """REST sign-in from client `address` (X-Forwarded-For), showing a `device` cookie or none:
    each request is a device of its own, the client keeps no cookie from one to the next."""
    client.cookies.clear()
    headers = {"x-forwarded-for": address}
    if device:
        headers["cookie"] = f"device={device}"
    try:
        return await client.post(
            "/api/users/signin", json={"email": who, "password": password}, headers=headers
        )
    finally:
        client.cookies.clear()


def refusal(reply: httpx.Response) -> str:
    rate_limited(reply)
    return reply.json()["errors"][0]["message"]


@pytest.fixture
async def edge(env) -> AsyncIterator[Edge]:
    passwords = CountedPasswords(HashingPool(4, 64, 30))
    async with edge_with({**env, **throttled()}, passwords) as running:
        yield running


async def test_ten_thousand_wrong_attempts_from_fifty_addresses_leave_the_owners_device_alone(
    edge,
):
    # 200 attempts per address get past the gateway (250 allowed), so all 10,000 reach auth.
    limits = {"SIGNIN_ADDRESS_LIMIT": "250", "SIGNIN_ADDRESS_WINDOW_SECONDS": "900"}
    async with edge.gateway(COOKIE_SECURE="false", GATEWAY_WORKERS="2", **limits) as gateway:
        victim = email()
        assert (await gateway.rest("signup", victim)).status_code == 201
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as browser:
            first = await sign_in(browser, victim, address="203.0.113.7")
            assert first.status_code == 200
            device = first.cookies["device"]
        cookie = first.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        checked_before = edge.passwords.verifications

        # The attack: 50 addresses, 200 wrong passwords each, 50 at once.
        statuses: collections.Counter[tuple[int, str]] = collections.Counter()
        started = time.monotonic()

        async def attacker(n: int) -> None:
            address = f"198.51.100.{n}"
            async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
                for _ in range(200):
                    reply = await sign_in(client, victim, "wrong-password", address=address)
                    message = reply.json()["errors"][0]["message"]
                    statuses[(reply.status_code, message.split(" Try again")[0])] += 1

        await asyncio.gather(*(attacker(n) for n in range(50)))
        attack_seconds = time.monotonic() - started
        # Nine wrong passwords were checked (the owner's sign-in took the tenth place); every
        # other attempt was refused without hashing.
        assert statuses == {
            (400, "Invalid credentials"): 9,
            (429, ACCOUNT_REFUSAL): 9_991,
        }, statuses
        assert edge.passwords.verifications - checked_before == 9
        print(f"10,000 attempts in {attack_seconds:.1f} s")

        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
            # The owner's usual browser signs in at once, at the first try...
            known = await sign_in(client, victim, address="203.0.113.7", device=device)
            assert known.status_code == 200, known.text
            assert known.json()["email"] == victim
            renewed = known.cookies["device"]
            # ...and so does their app, which keeps its deviceToken itself (GraphQL).
            app = await client.post(
                "/graphql",
                json={"query": SIGNIN, "variables": {"e": victim, "p": PASSWORD, "d": renewed}},
                headers={"x-forwarded-for": "203.0.113.8"},
            )
            assert app.status_code == 200 and app.json()["data"]["signIn"]["user"]["id"]
            assert app.json()["data"]["signIn"]["deviceToken"]

            # A device the account does not know is refused, the right password too.
            unknown = await sign_in(client, victim, address="203.0.113.9")
            assert refusal(unknown).startswith(ACCOUNT_REFUSAL)
            client.cookies.clear()
            unknown = await client.post(
                "/graphql",
                json={"query": SIGNIN, "variables": {"e": victim, "p": PASSWORD}},
                headers={"x-forwarded-for": "203.0.113.9"},
            )
            assert refusal(unknown).startswith(ACCOUNT_REFUSAL)

            # An attacker on one address is stopped by the gateway whatever the account: 198.51.
            # 100.0 has 50 of its 250 attempts left.
            for _ in range(50):
                reply = await sign_in(client, email(), "wrong-password", address="198.51.100.0")
                assert wrong_password(reply)
            assert refusal(
                await sign_in(client, email(), "wrong-password", address="198.51.100.0")
            ).startswith(ADDRESS_REFUSAL)
            assert refusal(
                await sign_in(client, victim, address="198.51.100.0", device=device)
            ).startswith(ADDRESS_REFUSAL)


async def test_a_known_devices_failures_lock_only_that_device(env):
    passwords = CountedPasswords(HashingPool(4, 64, 30))
    async with (
        edge_with({**env, **throttled(SIGNIN_DEVICE_LIMIT="3")}, passwords) as edge,
        edge.gateway(COOKIE_SECURE="false") as gateway,
        httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client,
    ):
        victim = email()
        assert (await gateway.rest("signup", victim)).status_code == 201
        stolen = (await sign_in(client, victim, address="203.0.113.1")).cookies["device"]
        owners = (await sign_in(client, victim, address="203.0.113.2")).cookies["device"]

        for _ in range(3):
            reply = await sign_in(client, victim, "guess", address="198.51.100.1", device=stolen)
            assert wrong_password(reply)
        reply = await sign_in(client, victim, address="198.51.100.1", device=stolen)
        assert refusal(reply).startswith(DEVICE_REFUSAL)

        # The owner's other device, and an unknown one, are not held up.
        assert (await sign_in(client, victim, address="203.0.113.2", device=owners)).is_success
        assert (await sign_in(client, victim, address="203.0.113.3")).is_success


@pytest.fixture
async def auth(env) -> AsyncIterator[auth_pb2_grpc.AuthServiceStub]:
    settings = AuthSettings.from_env({**env, **throttled(SIGNIN_ACCOUNT_LIMIT="3")})
    process = bootstrap(settings, hasher=cheap_passwords())
    port = await process.start("127.0.0.1", 0)
    async with service_tokens.channel(env, f"127.0.0.1:{port}") as channel:  # as the gateway
        yield auth_pb2_grpc.AuthServiceStub(channel)
    await process.stop()


async def grpc_error(call) -> tuple[grpc.StatusCode, object]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value.code(), from_rpc_error(info.value)


async def test_sign_in_straight_over_grpc_is_throttled_per_account(auth):
    ann = email()
    await auth.SignUp(auth_pb2.SignUpRequest(email=ann, password=PASSWORD))
    signed = await auth.SignIn(auth_pb2.SignInRequest(email=ann, password=PASSWORD))
    assert signed.device_token and signed.device_token != signed.token
    for _ in range(2):  # with the sign-in above, the account's 3 attempts from unknown devices
        code, _ = await grpc_error(auth.SignIn(auth_pb2.SignInRequest(email=ann, password="no")))
        assert code == grpc.StatusCode.UNAUTHENTICATED

    code, error = await grpc_error(
        auth.SignIn(auth_pb2.SignInRequest(email=ann, password=PASSWORD))
    )
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.code is ErrorCode.RATE_LIMITED and error.message.startswith(ACCOUNT_REFUSAL)
    assert 1 <= error.retry_after_seconds <= 900

    # The device that signed in before still does, and gets its token renewed.
    again = await auth.SignIn(
        auth_pb2.SignInRequest(email=ann, password=PASSWORD, device_token=signed.device_token)
    )
    assert again.user.id == signed.user.id and again.device_token

    # Another account's device token, or a session token shown as one, buys nothing.
    bob = email()
    await auth.SignUp(auth_pb2.SignUpRequest(email=bob, password=PASSWORD))
    bobs = await auth.SignIn(auth_pb2.SignInRequest(email=bob, password=PASSWORD))
    for token in (bobs.device_token, signed.token, again.token):
        code, error = await grpc_error(
            auth.SignIn(auth_pb2.SignInRequest(email=ann, password=PASSWORD, device_token=token))
        )
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error.message.startswith(ACCOUNT_REFUSAL)

    # And a device token is no session token.
    code, _ = await grpc_error(
        auth.GetUser(
            auth_pb2.GetUserRequest(id=signed.user.id),
            metadata=(("authorization", f"Bearer {signed.device_token}"),),
        )
    )
    assert code == grpc.StatusCode.UNAUTHENTICATED


async def test_without_redis_auth_refuses_every_sign_in_as_unavailable(env):
    """Fails closed, as the gateway's limits do: no count, no guessing."""
    nothing_there = f"redis://127.0.0.1:{free_port()}/0"
    settings = AuthSettings.from_env({**env, **throttled(), "REDIS_URL": nothing_there})
    passwords = CountedPasswords(HashingPool(4, 64, 30))
    process = bootstrap(settings, hasher=passwords)
    port = await process.start("127.0.0.1", 0)
    try:
        async with service_tokens.channel(env, f"127.0.0.1:{port}") as channel:
            stub = auth_pb2_grpc.AuthServiceStub(channel)
            ann = email()
            await stub.SignUp(auth_pb2.SignUpRequest(email=ann, password=PASSWORD))
            checked = passwords.verifications
            code, error = await grpc_error(
                stub.SignIn(auth_pb2.SignInRequest(email=ann, password=PASSWORD))
            )
            assert code == grpc.StatusCode.UNAVAILABLE and error.code is ErrorCode.UNAVAILABLE
            assert passwords.verifications == checked
    finally:
        await process.stop()
