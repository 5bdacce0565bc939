"""Two deployments sharing one key pair, in two namespaces (issue 18: "a token signed for another
deployment (namespace) with the same key pair is accepted, and signing out there does not revoke
it here"): each one's auth over real gRPC, deployment X's gateway in this process, SecantusDB,
RabbitMQ and Redis. A token deployment Y issued is refused by X's gateway and by X's auth service
called directly; X's own tokens go through both."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest

from common.grpc_errors import from_rpc_error
from common.jwt import generate_key_pair
from common.settings import ConfigError
from gateway.app import create_app
from gateway.config import GatewaySettings
from svc_auth.bootstrap import bootstrap
from svc_auth.config import AuthSettings
from tests.support import servers, service_tokens
from tests.support.passwords import cheap_passwords
from tests.support.tokens import issuer_for
from ticketing.auth.v1 import auth_pb2, auth_pb2_grpc

pytestmark = pytest.mark.integration

PASSWORD = "s3cret-pass"
CURRENT = "{ currentUser { email } }"
SIGN_OUT = "mutation { signOut { userErrors { code } } }"


@pytest.fixture
def elsewhere(env, amqp_url, redis_url, mongo_url):
    """The settings of another deployment: the same key pair and datastores, its own namespace."""
    namespace = f"e{uuid.uuid4().hex[:12]}"
    yield {**env, "TICKETING_NAMESPACE": namespace}
    servers.remove_namespace(namespace, amqp_url, redis_url, mongo_url)


async def start_auth(env: dict[str, str]):
    process = bootstrap(AuthSettings.from_env(env), hasher=cheap_passwords())
    port = await process.start("127.0.0.1", 0)
    return process, port


@pytest.fixture
async def deployments(env, elsewhere) -> AsyncIterator[dict]:
    here, here_port = await start_auth(env)
    there, there_port = await start_auth(elsewhere)
    app = create_app(GatewaySettings.from_env({**env, "AUTH_ADDR": f"127.0.0.1:{here_port}"}))
    lifespan = app.public.router.lifespan_context(app)
    await lifespan.__aenter__()
    # Each as its deployment's gateway calls it.
    channels = [
        service_tokens.channel(e, f"127.0.0.1:{p}")
        for e, p in ((env, here_port), (elsewhere, there_port))
    ]
    gateway = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
    try:
        yield {
            "here": auth_pb2_grpc.AuthServiceStub(channels[0]),
            "there": auth_pb2_grpc.AuthServiceStub(channels[1]),
            "gateway": gateway,
        }
    finally:
        await gateway.aclose()
        for channel in channels:
            await channel.close()
        await lifespan.__aexit__(None, None, None)
        for process in (there, here):
            await process.stop()


async def ask(gateway: httpx.AsyncClient, query: str, token: str) -> dict:
    reply = await gateway.post(
        "/graphql", json={"query": query}, headers={"authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


async def get_user(stub, user_id: str, token: str) -> tuple[grpc.StatusCode, str]:
    try:
        await stub.GetUser(
            auth_pb2.GetUserRequest(id=user_id), metadata=(("authorization", f"Bearer {token}"),)
        )
    except grpc.aio.AioRpcError as error:
        return error.code(), from_rpc_error(error).message
    return grpc.StatusCode.OK, ""


async def test_a_token_of_another_deployment_with_the_same_key_pair_is_refused(
    deployments, elsewhere
) -> None:
    here, there, gateway = deployments["here"], deployments["there"], deployments["gateway"]
    ours = await here.SignUp(auth_pb2.SignUpRequest(email="ann@example.com", password=PASSWORD))
    # The same person's account over there, and a token over there for her account here: signed
    # with the key pair both deployments share, as auth over there signs.
    theirs = await there.SignUp(auth_pb2.SignUpRequest(email="ann@example.com", password=PASSWORD))
    forged_for_here, _ = issuer_for(elsewhere).issue(ours.user.id, "ann@example.com")
    foreign = {"issued there": theirs.token, "for our user, signed there": forged_for_here}

    # Sentinels: our own token passes both ways, theirs passes over there.
    assert (await ask(gateway, CURRENT, ours.token))["data"]["currentUser"] == {
        "email": "ann@example.com"
    }
    assert await get_user(here, ours.user.id, ours.token) == (grpc.StatusCode.OK, "")
    assert await get_user(there, theirs.user.id, theirs.token) == (grpc.StatusCode.OK, "")

    for name, token in foreign.items():
        assert (await ask(gateway, CURRENT, token))["data"]["currentUser"] is None, name
        [error] = (await ask(gateway, SIGN_OUT, token))["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED", name
        # Straight to the service, past the gateway: refused there too, with no detail.
        for user_id in (ours.user.id, theirs.user.id):
            assert await get_user(here, user_id, token) == (
                grpc.StatusCode.UNAUTHENTICATED,
                "Invalid token",
            ), name


async def test_auth_refuses_a_private_key_whose_public_key_is_not_configured(env) -> None:
    # A rollover's step 2 before its step 1: auth would sign tokens every verifier refuses.
    _, other_public = generate_key_pair()
    with pytest.raises(ConfigError, match=r"JWT_PRIVATE_KEY's public key .* not among"):
        bootstrap(AuthSettings.from_env({**env, "JWT_PUBLIC_KEY": other_public}))
    # Both public keys configured (the rollover's step 1 done): auth starts.
    both = {**env, "JWT_PUBLIC_KEY": other_public + env["JWT_PUBLIC_KEY"]}
    process = bootstrap(AuthSettings.from_env(both), hasher=cheap_passwords())
    await process.start("127.0.0.1", 0)
    await process.stop()
