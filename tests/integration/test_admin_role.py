"""`ticketing users grant-admin EMAIL` (the real command, in a process of its own) against auth's
database, with the auth service running over real gRPC: the role is in the tokens of the user's
next sign-in, the gateway's operators-only check lets them through, and an unknown email or a
missing database is a clear message and a non-zero exit."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from common import run_state
from common.errors import Forbidden, Unauthenticated
from common.jwt import TokenVerifier
from gateway.context import Context, require_admin
from svc_auth.bootstrap import bootstrap
from svc_auth.config import AuthSettings
from tests.support import service_tokens
from tests.support.passwords import cheap_passwords
from ticketing.auth.v1 import auth_pb2, auth_pb2_grpc

pytestmark = pytest.mark.integration

PASSWORD = "s3cret-pass"


@pytest.fixture
async def auth(env):
    process = bootstrap(AuthSettings.from_env(env), hasher=cheap_passwords())
    port = await process.start("127.0.0.1", 0)
    channel = service_tokens.channel(env, f"127.0.0.1:{port}")
    yield auth_pb2_grpc.AuthServiceStub(channel), process.infra.verifier
    await channel.close()
    await process.stop()


@contextlib.contextmanager
def held_lock(run_dir):
    """The run directory's lock, held as a running `ticketing run` holds it."""
    with (run_dir / run_state.LOCK_FILE).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ticketing_users(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from common.cli import main; main()", "users", *args],
        # Only what the test says: a MONGO_URL of the machine's would hide a missing one.
        env={**{k: v for k, v in os.environ.items() if k != "MONGO_URL"}, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def operator_check(verifier: TokenVerifier, token: str | None):
    """What an operators-only resolver gets from `require_admin(info)` for this token."""
    context = Context(
        request=None,
        response=None,
        clients=None,
        accounts=SimpleNamespace(verifier=verifier),
        token=token,
        ticket_reads=None,
        tickets=None,
        payments=None,
    )
    return await require_admin(SimpleNamespace(context=context))


async def test_an_admin_is_granted_by_email_and_is_one_from_the_next_sign_in(auth, env):
    stub, verifier = auth
    up = await stub.SignUp(auth_pb2.SignUpRequest(email="ops@example.com", password=PASSWORD))
    with pytest.raises(Forbidden, match="admin role"):
        await operator_check(verifier, up.token)

    done = await asyncio.to_thread(ticketing_users, env, "grant-admin", "OPS@example.com")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"ops@example.com (user {up.user.id}) is an admin.")
    assert "next sign-in" in done.stdout
    # The session opened before the grant has no role; the next one has.
    with pytest.raises(Forbidden):
        await operator_check(verifier, up.token)
    signed = await stub.SignIn(auth_pb2.SignInRequest(email="ops@example.com", password=PASSWORD))
    claims = await operator_check(verifier, signed.token)
    assert claims.user_id == up.user.id and claims.roles == ("admin",)

    again = await asyncio.to_thread(ticketing_users, env, "grant-admin", "ops@example.com")
    assert again.returncode == 0 and "is already an admin" in again.stdout


async def test_signed_out_callers_are_asked_to_sign_in(auth):
    _, verifier = auth
    with pytest.raises(Unauthenticated):
        await operator_check(verifier, None)


async def test_an_unknown_email_is_named_and_fails(auth, env):
    done = await asyncio.to_thread(ticketing_users, env, "grant-admin", "nobody@example.com")
    assert done.returncode == 1
    assert done.stderr.strip() == "ticketing users: No user has the email nobody@example.com"
    malformed = await asyncio.to_thread(ticketing_users, env, "grant-admin", "nobody")
    assert malformed.returncode == 1
    assert malformed.stderr.strip() == "ticketing users: Email must be valid"


def test_without_a_database_it_says_where_to_point_it(env, tmp_path):
    no_database = {k: v for k, v in env.items() if k != "MONGO_URL"}
    done = ticketing_users(
        {**no_database, "TICKETING_RUN_DIR": str(tmp_path)}, "grant-admin", "a@b.co"
    )
    assert done.returncode == 2
    assert "MONGO_URL is not set and no `ticketing run` is running here" in done.stderr


def test_beside_a_ticketing_run_it_finds_the_run_s_database(env, tmp_path):
    # What a running `ticketing run` holds and says in its run directory, pointing at the
    # test's database.
    settings = {"MONGO_URL": env["MONGO_URL"]}
    state = run_state.RunState(
        pid=os.getpid(), ready=True, settings=settings, children={}, restarts={}
    )
    run_state.write(tmp_path, state.to_json())
    no_database = {k: v for k, v in env.items() if k != "MONGO_URL"}
    with held_lock(tmp_path):
        done = ticketing_users(
            {**no_database, "TICKETING_RUN_DIR": str(tmp_path)}, "grant-admin", "nobody@example.com"
        )
    assert done.returncode == 1 and "No user has the email" in done.stderr  # it got that far
    # Once that stack is gone, its state is not used.
    stale = ticketing_users(
        {**no_database, "TICKETING_RUN_DIR": str(tmp_path)}, "grant-admin", "nobody@example.com"
    )
    assert stale.returncode == 2
    assert "left over from a `ticketing run` that no longer runs" in stale.stderr
