"""Calls a test makes straight to a service, as the process that makes them in production (the
gateway, unless it says another): their service token from the test stack's keys."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import grpc

from common.config import CommonSettings
from common.service_identity import (
    GATEWAY,
    AttachServiceToken,
    ServiceTokens,
    key_settings,
    load_private_key,
)

Keys = Mapping[str, str] | CommonSettings  # a test's env, or a process's settings


def tokens_of(keys: Keys, caller: str = GATEWAY) -> ServiceTokens:
    """`caller`'s service tokens, its key from the stack's SERVICE_PRIVATE_KEY_FILE."""
    if isinstance(keys, CommonSettings):
        return ServiceTokens(caller, load_private_key(keys.service_private_key_of(caller)))
    path = Path(keys["SERVICE_PRIVATE_KEY_FILE"].replace("{service}", caller))
    return ServiceTokens(caller, load_private_key(path.read_text()))


def channel(env: Keys, target: str, caller: str = GATEWAY) -> grpc.aio.Channel:
    """An asyncio channel to `target` whose calls carry `caller`'s service token."""
    return grpc.aio.insecure_channel(
        target, interceptors=[AttachServiceToken(tokens_of(env, caller))]
    )


def metadata(env: Keys, callee: str, caller: str = GATEWAY) -> tuple[tuple[str, str], ...]:
    """The metadata of one (blocking) call from `caller` to `callee`."""
    return (tokens_of(env, caller).metadata_for(callee),)


def of_run(run_dir: Path) -> dict[str, str]:
    """The key settings of a `ticketing run` in `run_dir` (the set it made in service-keys)."""
    return key_settings(run_dir / "service-keys")
