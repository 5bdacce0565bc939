"""Local stand-ins for the datastores' official images (../shared/containers/engine builds them
on machines that reach no registry: SecantusDB for mongo, Debian's RabbitMQ and Redis).

A stand-in is labelled `standin.for=<the name it stands in for>` (an image built FROM one
inherits the label with the base's name, so only an exact match counts). Stand-ins are not the
official images: their entrypoints need root (they chown and drop privileges themselves, or
write their configuration under /etc), so pods.py runs them without the pod's securityContext,
and says so. What a stand-in cannot do that the manifests rely on is done here, in the open.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from tools.pod_check.model import PodCheckError


def is_standin(reference: str, image: Mapping) -> bool:
    labels = (image.get("Config") or {}).get("Labels") or {}
    return labels.get("standin.for") == reference


def _mongo_user(host: str, port: int, username: str, password: str) -> None:
    try:
        with MongoClient(host, port, directConnection=True, serverSelectionTimeoutMS=10000) as c:
            if not c.admin.command("usersInfo", username)["users"]:
                c.admin.command(
                    "createUser", username, pwd=password, roles=[{"role": "root", "db": "admin"}]
                )
    except PyMongoError as exc:
        raise PodCheckError(
            f"creating the user {username} on {host}:{port} failed: {exc}"
        ) from None


async def finish_mongo_bootstrap(
    ip: str, port: int, containers: Mapping[str, Mapping]
) -> str | None:
    """The mongo stand-in's `mongosh` runs no script (it only answers whether the node is a
    writable primary, and SecantusDB is a replica set from its first start), so the bootstrap
    sidecar's createUser never happens: create that user here, from the sidecar's own
    MONGO_USERNAME and MONGO_PASSWORD. `containers`: container name -> its environment.
    Returns a note, or None when no container of the pod bootstraps a user."""
    for name, environment in containers.items():
        if "MONGO_USERNAME" in environment and "MONGO_PASSWORD" in environment:
            await asyncio.to_thread(
                _mongo_user, ip, port, environment["MONGO_USERNAME"], environment["MONGO_PASSWORD"]
            )
            return (
                f"the stand-in's mongosh skips {name}'s script: its user "
                f"{environment['MONGO_USERNAME']} was created by pod-check"
            )
    return None
