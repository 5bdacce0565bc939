"""The gateway's rate limits and auth's hashing bound, through the real gateway (`python -m
gateway`, its own process; two of them as two replicas) in front of auth (in this process, real
gRPC, argon2id with cheap parameters), with SecantusDB, RabbitMQ and the machine's Redis.

Sign-in and sign-up are limited alike on REST (/api/users/*) and GraphQL (the mutations), and
share their counts (sign-ins per account: auth's, the others the gateway's); over a limit: HTTP
429, `Retry-After`, GraphQL code RATE_LIMITED. The client address comes from X-Forwarded-For
only when the peer is a trusted proxy. Auth hashes at most PASSWORD_HASHING_CONCURRENCY
passwords at once and answers 503 with Retry-After beyond its queue."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from common.service import ServiceProcess
from svc_auth.adapters.hashing_pool import HashingPool
from svc_auth.bootstrap import bootstrap as auth_bootstrap
from svc_auth.config import AuthSettings
from tests.support import servers
from tests.support.passwords import CountedPasswords
from tests.support.tokens import issuer_for

pytestmark = pytest.mark.integration

PASSWORD = "correct-horse"
SIGNIN = (
    "mutation($e: String!, $p: String!) { signIn(input: {email: $e, password: $p}) "
    "{ user { id } userErrors { code field } } }"
)
SIGNUP = (
    "mutation($e: String!, $p: String!) { signUp(input: {email: $e, password: $p}) "
    "{ user { id } userErrors { code field } } }"
)
ME = "{ currentUser { id } }"


class Gateway:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)

    def via(self, local_address: str) -> httpx.AsyncClient:
        """A client whose connections come from another loopback address (a peer of its own)."""
        transport = httpx.AsyncHTTPTransport(local_address=local_address)
        return httpx.AsyncClient(base_url=self.base_url, transport=transport, timeout=30)

    async def rest(self, route: str, email: str, password: str = PASSWORD) -> httpx.Response:
        return await self.http.post(
            f"/api/users/{route}", json={"email": email, "password": password}
        )

    async def graphql(
        self,
        query: str,
        token: str | None = None,
        client: httpx.AsyncClient | None = None,
        forwarded_for: str | None = None,
        **variables: str,
    ) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        if forwarded_for is not None:
            headers["x-forwarded-for"] = forwarded_for
        return await (client or self.http).post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )


class Edge:
    """Auth in this process on a port chosen up front, and gateways in front of it."""

    def __init__(self, env: dict[str, str], passwords: CountedPasswords) -> None:
        port = servers.free_port()
        self.port = port
        self.env = {
            **env,
            "AUTH_PORT": str(port),
            "AUTH_ADDR": f"127.0.0.1:{port}",
            "TICKET_CACHE_ENABLED": "false",
            "GATEWAY_WORKERS": "1",
        }
        self.passwords = passwords
        self.auth: ServiceProcess = auth_bootstrap(AuthSettings.from_env(self.env), passwords)
        self.issuer = issuer_for(env)

    def token(self) -> str:
        user_id = str(uuid.uuid4())
        return self.issuer.issue(user_id, f"{user_id[:8]}@example.com")[0]

    @contextlib.asynccontextmanager
    async def gateway(self, **settings: str) -> AsyncIterator[Gateway]:
        port = servers.free_port()
        env = servers.environ(
            {
                **self.env,
                "GATEWAY_PORT": str(port),
                "GATEWAY_ADMIN_PORT": str(servers.free_port()),
                **settings,
            }
        )
        proc = await asyncio.to_thread(subprocess.Popen, [sys.executable, "-m", "gateway"], env=env)
        try:
            await asyncio.to_thread(servers.wait_for_port, port, 30, proc)
            gateway = Gateway(f"http://127.0.0.1:{port}")
            try:
                yield gateway
            finally:
                await gateway.http.aclose()
        finally:
            await asyncio.to_thread(servers.stop_process, proc)


@contextlib.asynccontextmanager
async def edge_with(env: dict[str, str], passwords: CountedPasswords) -> AsyncIterator[Edge]:
    edge = Edge(env, passwords)
    await edge.auth.start("127.0.0.1", edge.port)
    try:
        yield edge
    finally:
        await edge.auth.stop()


@pytest.fixture
async def edge(env) -> AsyncIterator[Edge]:
    async with edge_with(env, CountedPasswords(HashingPool(4, 64, 30))) as running:
        yield running


def email() -> str:
    return f"u{uuid.uuid4().hex[:10]}@example.com"


def rate_limited(reply: httpx.Response) -> int:
    """The Retry-After of a 429, after checking the shape of the refusal."""
    assert reply.status_code == 429, reply.text
    retry_after = int(reply.headers["retry-after"])
    assert retry_after >= 1
    errors = reply.json()["errors"]
    assert f"Try again in {retry_after} seconds" in errors[0]["message"]
    if reply.url.path == "/graphql":
        assert [e["extensions"]["code"] for e in errors] == ["RATE_LIMITED"]
    else:  # REST: the same code, beside the message
        assert [e["code"] for e in errors] == ["RATE_LIMITED"]
    return retry_after


def wrong_password(reply: httpx.Response) -> bool:
    """The REST answer to a wrong password: 400 as the seed's, and the code GraphQL gives it."""
    return reply.status_code == 400 and reply.json()["errors"] == [
        {"message": "Invalid credentials", "code": "UNAUTHENTICATED"}
    ]


def graphql_code(reply: httpx.Response) -> str | None:
    errors = reply.json().get("errors")
    return errors[0]["extensions"]["code"] if errors else None


# -- sign-in per account (auth's count; tests/integration/test_signin_throttling.py: devices) --


async def test_unknown_devices_past_the_accounts_limit_are_refused_on_both_paths_for_a_window(
    env,
):
    limits = {"SIGNIN_ACCOUNT_LIMIT": "3", "SIGNIN_ACCOUNT_WINDOW_SECONDS": "5"}
    passwords = CountedPasswords(HashingPool(4, 64, 30))
    async with (
        edge_with({**env, **limits}, passwords) as edge,
        edge.gateway() as gateway,
        edge.gateway() as replica,
    ):
        ann, bob = email(), email()
        for user in (ann, bob):
            assert (await gateway.rest("signup", user)).status_code == 201

        # Three wrong passwords, by either path: each one an ordinary refusal...
        assert wrong_password(await gateway.rest("signin", ann, "wrong-password"))
        wrong = await gateway.graphql(SIGNIN, e=ann.upper(), p="wrong-password")
        assert wrong.status_code == 200 and graphql_code(wrong) is None
        assert wrong.json()["data"]["signIn"] == {
            "user": None,
            "userErrors": [{"code": "INVALID_CREDENTIALS", "field": ["input", "password"]}],
        }
        assert wrong_password(await gateway.rest("signin", ann, "wrong-password"))

        # ...the fourth is one too many, and so is the right password from a device the account
        # does not know, on both paths and on every replica (auth counts, in Redis).
        rate_limited(await replica.rest("signin", ann, "wrong-password"))
        rate_limited(await gateway.rest("signin", ann))
        rate_limited(await replica.rest("signin", ann))
        retry_after = rate_limited(await gateway.graphql(SIGNIN, e=ann, p=PASSWORD))
        assert retry_after <= 5

        # Another account is not affected.
        assert (await gateway.rest("signin", bob)).status_code == 200

        # Once the window has passed, the right password works again.
        await asyncio.sleep(retry_after)
        assert (await replica.rest("signin", ann)).status_code == 200


async def test_a_success_from_an_unknown_device_takes_a_place_and_clears_none(env):
    limits = {"SIGNIN_ACCOUNT_LIMIT": "3", "SIGNIN_ACCOUNT_WINDOW_SECONDS": "600"}
    passwords = CountedPasswords(HashingPool(4, 64, 30))
    async with edge_with({**env, **limits}, passwords) as edge, edge.gateway() as gateway:
        ann = email()
        assert (await gateway.rest("signup", ann)).status_code == 201
        for _ in range(2):
            assert wrong_password(await gateway.rest("signin", ann, "wrong-password"))
        # The owner, on a device the account does not know yet (the cookie is Secure: this
        # plain-HTTP client does not send it back): the third place...
        assert (await gateway.rest("signin", ann)).status_code == 200
        # ...and a stranger's failures are not forgotten for it: no fourth.
        rate_limited(await gateway.rest("signin", ann, "wrong-password"))


# -- per client address ------------------------------------------------------------------------


async def test_sign_ins_per_address_count_every_account(edge):
    async with edge.gateway(SIGNIN_ADDRESS_LIMIT="3") as gateway:
        ann = email()
        assert (await gateway.rest("signup", ann)).status_code == 201
        assert wrong_password(await gateway.rest("signin", email(), "wrong-password"))
        assert (await gateway.graphql(SIGNIN, e=email(), p="wrong-password")).status_code == 200
        assert (await gateway.rest("signin", ann)).status_code == 200  # a success counts too

        rate_limited(await gateway.rest("signin", email(), "wrong-password"))
        rate_limited(await gateway.graphql(SIGNIN, e=ann, p=PASSWORD))


async def test_sign_ups_per_address_on_both_paths(edge):
    async with edge.gateway(SIGNUP_ADDRESS_LIMIT="2") as gateway:
        assert (await gateway.rest("signup", email())).status_code == 201
        signed_up = await gateway.graphql(SIGNUP, e=email(), p=PASSWORD)
        assert signed_up.status_code == 200 and signed_up.json()["data"]["signUp"]["user"]["id"]

        rate_limited(await gateway.rest("signup", email()))
        rate_limited(await gateway.graphql(SIGNUP, e=email(), p=PASSWORD))


async def test_graphql_is_limited_per_address_when_anonymous_and_per_user_when_signed_in(edge):
    async with edge.gateway(GRAPHQL_ADDRESS_LIMIT="3", GRAPHQL_USER_LIMIT="4") as gateway:
        for _ in range(3):
            reply = await gateway.graphql(ME)
            assert reply.status_code == 200 and reply.json() == {"data": {"currentUser": None}}
        rate_limited(await gateway.graphql(ME))
        # A token that is not ours does not buy a bucket of its own.
        rate_limited(await gateway.graphql(ME, token="not-a-token"))

        # A signed-in user, from the same address, has a limit of its own.
        ann, bob = edge.token(), edge.token()
        for _ in range(4):
            assert (await gateway.graphql(ME, ann)).status_code == 200
        rate_limited(await gateway.graphql(ME, ann))
        assert (await gateway.graphql(ME, bob)).status_code == 200


async def test_forwarded_for_is_believed_only_from_a_trusted_proxy(edge):
    async with edge.gateway(GRAPHQL_ADDRESS_LIMIT="2", TRUSTED_PROXIES="127.0.0.2") as gateway:
        # 127.0.0.1 is no proxy of ours: making up a new X-Forwarded-For each time evades nothing.
        for n in range(2):
            reply = await gateway.graphql(ME, forwarded_for=f"198.51.100.{n}")
            assert reply.status_code == 200
        rate_limited(await gateway.graphql(ME, forwarded_for="198.51.100.99"))

        # The trusted proxy at 127.0.0.2 names its clients; each has a limit of its own.
        async with gateway.via("127.0.0.2") as proxy:
            for _ in range(2):
                reply = await gateway.graphql(ME, client=proxy, forwarded_for="203.0.113.7")
                assert reply.status_code == 200
            rate_limited(await gateway.graphql(ME, client=proxy, forwarded_for="203.0.113.7"))

            # What a client wrote before the proxy's hop is not believed either.
            spoofed = ["6.6.6.6, 203.0.113.8", "7.7.7.7, 203.0.113.8"]
            for forwarded_for in spoofed:
                reply = await gateway.graphql(ME, client=proxy, forwarded_for=forwarded_for)
                assert reply.status_code == 200
            rate_limited(
                await gateway.graphql(ME, client=proxy, forwarded_for="8.8.8.8, 203.0.113.8")
            )


# -- auth's password hashing ---------------------------------------------------------------------


async def test_fifty_concurrent_sign_ins_hash_at_most_four_passwords_at_once(edge):
    async with edge.gateway() as gateway:
        ann = email()
        assert (await gateway.rest("signup", ann)).status_code == 201
        edge.passwords.release.clear()  # hold every hash until the queue has formed
        edge.passwords.most = 0

        sign_ins = [asyncio.create_task(gateway.rest("signin", ann)) for _ in range(50)]
        await edge.passwords.until(running=4, waiting=10)
        edge.passwords.release.set()
        replies = await asyncio.gather(*sign_ins)

        assert [r.status_code for r in replies] == [200] * 50
        assert edge.passwords.most == 4


async def test_beyond_its_queue_auth_answers_503_with_retry_after(env):
    passwords = CountedPasswords(HashingPool(1, 0, 30), held=True)
    async with edge_with(env, passwords) as edge, edge.gateway() as gateway:
        first = asyncio.create_task(gateway.rest("signup", email()))
        await passwords.until(running=1)  # the only slot is taken, and no call may queue

        busy = await gateway.rest("signin", email())
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "1"
        assert busy.json()["errors"] == [
            {"message": "Too many sign-ins at once, try again shortly", "code": "UNAVAILABLE"}
        ]
        busy = await gateway.graphql(SIGNIN, e=email(), p=PASSWORD)
        assert (busy.status_code, graphql_code(busy)) == (503, "UNAVAILABLE")
        assert busy.headers["retry-after"] == "1"

        passwords.release.set()
        assert (await first).status_code == 201
        assert wrong_password(await gateway.rest("signin", email(), "wrong-password"))


# -- Redis down ----------------------------------------------------------------------------------


async def test_without_redis_sign_in_fails_closed_and_graphql_open(edge):
    nothing_there = f"redis://127.0.0.1:{servers.free_port()}/0"
    limits = {"GRAPHQL_ADDRESS_LIMIT": "1", "SIGNIN_ADDRESS_LIMIT": "10"}
    async with edge.gateway(REDIS_URL=nothing_there, **limits) as gateway:
        for _ in range(2):  # counted by nobody: not limited
            reply = await gateway.graphql(ME)
            assert reply.status_code == 200 and reply.json() == {"data": {"currentUser": None}}

        refused = await gateway.rest("signin", email())
        assert refused.status_code == 503
        refused = await gateway.graphql(SIGNIN, e=email(), p=PASSWORD)
        assert graphql_code(refused) == "UNAVAILABLE"
