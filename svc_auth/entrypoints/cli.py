"""`ticketing users grant-admin EMAIL`: run where auth's database is reachable (an auth pod:
`kubectl exec deploy/auth -- ticketing users grant-admin ann@example.com`), or beside a
`ticketing run`, whose namespace and database `ticketing` finds in its state
(common/run_state.py)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping

from common.clock import SystemClock
from common.config import CommonSettings
from common.errors import AppError
from common.mongo import database_name, mongo_client
from common.retries import is_outage
from common.roles import ADMIN
from common.run_state import run_dir_of
from common.settings import ConfigError
from svc_auth.adapters.unit_of_work import MongoAuthUnitOfWork
from svc_auth.bootstrap import NAME
from svc_auth.service_layer.roles import grant_role

PROGRAM = "ticketing users"


def mongo_url(settings: CommonSettings, env: Mapping[str, str]) -> str:
    if not settings.mongo_url:
        raise ConfigError(
            f"MONGO_URL is not set and no `ticketing run` is running here ({run_dir_of(env)}): "
            "set MONGO_URL to auth's database"
        )
    return settings.mongo_url.get_secret_value()


async def _grant(url: str, namespace: str, email: str, role: str):
    client = mongo_client(url)
    try:
        db = client[database_name(namespace, NAME)]
        clock = SystemClock()
        return await grant_role(lambda: MongoAuthUnitOfWork(client, db, NAME, clock), email, role)
    finally:
        await client.close()


def grant_admin(email: str, env: Mapping[str, str]) -> int:
    """Prints what happened; the exit status: 0 done (or already so), 1 refused or failed,
    2 misconfigured. `env`: the settings, with those of a `ticketing run` beside it."""
    try:
        settings = CommonSettings.from_env(env)
        url = mongo_url(settings, env)
    except ConfigError as exc:
        print(f"{PROGRAM}: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        user, granted = asyncio.run(_grant(url, settings.namespace, email, ADMIN))
    except AppError as exc:  # an unknown or malformed email
        print(f"{PROGRAM}: {exc.message}", file=sys.stderr)
        return 1
    except Exception as exc:
        if not is_outage(exc):
            raise
        print(f"{PROGRAM}: cannot reach auth's database: {exc}", file=sys.stderr)
        return 1
    already = "" if granted else " already"
    print(
        f"{user.email} (user {user.id}) is{already} an admin. It shows in their tokens from "
        "their next sign-in: a session opened before keeps no admin role until it ends."
    )
    return 0
