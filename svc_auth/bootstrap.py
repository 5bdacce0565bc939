"""Wires the auth service: the one place real adapters are chosen (tests pass fakes to
`AuthHandlers` directly)."""

from __future__ import annotations

from common.grpc_server import GrpcServer
from common.jwt import TokenBinding, TokenIssuer
from common.rate_limiter import limiter
from common.service import Infrastructure, ServiceProcess
from common.settings import ConfigError
from svc_auth.adapters.device_tokens import DeviceTokens
from svc_auth.adapters.hashing_pool import HashingPool
from svc_auth.adapters.passwords import Argon2Passwords
from svc_auth.adapters.repository import ensure_indexes
from svc_auth.adapters.revocation_store import MongoRevocationStore
from svc_auth.adapters.revocation_store import ensure_indexes as ensure_revocation_indexes
from svc_auth.adapters.unit_of_work import MongoAuthUnitOfWork
from svc_auth.config import AuthSettings
from svc_auth.entrypoints.access import ACCESS
from svc_auth.entrypoints.grpc_api import AuthServicer
from svc_auth.service_layer.handlers import AuthHandlers, PasswordHasher
from svc_auth.service_layer.revocation_sync import RevocationSync
from svc_auth.service_layer.signin_throttle import SignInThrottle
from ticketing.auth.v1 import auth_pb2, auth_pb2_grpc

NAME = "auth"


def hashing_pool(settings: AuthSettings) -> HashingPool:
    return HashingPool(
        settings.password_hashing_concurrency,
        settings.password_hashing_max_waiting,
        settings.password_hashing_max_wait_seconds,
    )


def bootstrap(settings: AuthSettings, hasher: PasswordHasher | None = None) -> ServiceProcess:
    infra = Infrastructure.from_settings(NAME, settings)
    assert infra.db is not None
    # Revocations: recorded in auth's database, copied to the Redis every verifier reads.
    revocations = RevocationSync(infra.revocations, MongoRevocationStore(infra.db, infra.clock))
    issuer = TokenIssuer(
        settings.private_key(),
        settings.jwt_ttl_seconds,
        infra.clock,
        binding=TokenBinding.of(settings),
    )
    if issuer.key_id not in infra.verifier.key_ids:
        # Tokens nobody would accept: a rollover's step 2 done before its step 1.
        raise ConfigError(
            f"JWT_PRIVATE_KEY's public key (kid {issuer.key_id}) is not among JWT_PUBLIC_KEY's:"
            " add it to every process's JWT_PUBLIC_KEY first"
        )
    # Sign-in counts: on a Redis client of their own that fails fast (common.rate_limiter).
    counter = limiter(settings)
    throttle = SignInThrottle(
        counter,
        account_limit=settings.signin_account_limit,
        account_window_seconds=settings.signin_account_window_seconds,
        device_limit=settings.signin_device_limit,
        device_window_seconds=settings.signin_device_window_seconds,
    )
    handlers = AuthHandlers(
        uow=infra.unit_of_work(MongoAuthUnitOfWork),
        hasher=hasher or Argon2Passwords(hashing_pool(settings)),
        issuer=issuer,
        revocations=revocations,
        clock=infra.clock,
        throttle=throttle,
        devices=DeviceTokens(
            settings.private_key(),
            settings.device_token_ttl_seconds,
            infra.clock,
            binding=TokenBinding.of(settings),
            public_keys_pem=settings.public_keys(),
        ),
    )
    server = GrpcServer(
        infra.verifier,
        settings.shutdown_grace_seconds,
        settings.grpc_max_connection_age_seconds,
        services=infra.services,
    )
    server.add(
        auth_pb2_grpc.add_AuthServiceServicer_to_server,
        AuthServicer(handlers),
        auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name,
        ACCESS,
    )
    db = infra.db
    return ServiceProcess(
        NAME,
        server,
        infra,
        loops=[revocations.run],
        on_start=[
            lambda: ensure_indexes(db),
            lambda: ensure_revocation_indexes(db),
            revocations.try_sync,
        ],
        on_stop=[counter.close],
    )
