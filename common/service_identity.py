"""Which process is calling: signed service tokens between the processes of this system.

Each process that calls another (the gateway, tickets, orders, payments; `cli` for an
operator's grpcurl) holds an Ed25519 private key of its own. On each call it attaches a short-
lived EdDSA JWT in the `x-service-token` metadata key: `iss` its name, `aud` the service it
calls, `exp` SERVICE_TOKEN_SECONDS ahead. A token is made once per callee and reused until a
minute before it expires, so signing costs nothing per call. The callee checks the token against
the public key of the caller it names (SERVICE_PUBLIC_KEYS_DIR holds one `<name>.pem` per
caller) and then its access table (`Access` per RPC, svc_*/entrypoints/access.py): which callers
may call the RPC, and whether the RPC acts for a user (then the user's own token is required
too). Missing, unknown, altered, expired or another audience's token: UNAUTHENTICATED; a caller
the RPC does not admit: PERMISSION_DENIED. docs/security.md, "Services check who calls".
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from common.clock import Clock, SystemClock
from common.config import CommonSettings
from common.errors import Forbidden, Unauthenticated
from common.jwt import ALGORITHM, ed25519_private_key, generate_key_pair
from common.processes import GRPC_SERVICES, SERVICE_IDENTITIES
from common.settings import ConfigError

METADATA_KEY = "x-service-token"
# A token's life, and how long before its end a caller makes the next one.
TOKEN_SECONDS = 300
RENEW_BEFORE_SECONDS = 60
# Clock difference between hosts a token's `iat`/`exp` tolerate.
LEEWAY_SECONDS = 30
VERIFIED_TOKENS = 1024

# The processes that may hold a service identity: the gateway, the eight services, and `cli`, an
# operator's tools (`ticketing service-token`, for grpcurl).
GATEWAY, CLI = "gateway", "cli"
IDENTITIES = SERVICE_IDENTITIES
# The callee of a method path (/ticketing.tickets.v1.TicketsService/GetTicket: tickets).
_AUDIENCES = {f"/{spec.grpc_service}/": spec.name for spec in GRPC_SERVICES}


@dataclass(frozen=True)
class Access:
    """Who may call one RPC: the services in `callers`, and, when `user` is true, only with the
    token of the user it acts for (the handler reads it with current_user())."""

    callers: frozenset[str]
    user: bool = False

    def check(self, caller: str | None) -> None:
        if caller is None:
            raise Unauthenticated("A service token is required (x-service-token)")
        if caller not in self.callers:
            raise Forbidden(f"{caller} may not call this method")


def access(*callers: str, user: bool = False) -> Access:
    unknown = set(callers) - set(IDENTITIES)
    if unknown:
        raise ValueError(f"unknown callers {sorted(unknown)}; known: {IDENTITIES}")
    return Access(frozenset(callers), user)


def check_table(service: object, table: Mapping[str, Access]) -> None:
    """`table` names exactly the methods of `service` (a protobuf ServiceDescriptor): an RPC
    without a policy, or a policy for no RPC, is a ValueError at start."""
    methods = {m.name for m in service.methods}  # type: ignore[attr-defined]
    streaming = [
        m.name
        for m in service.methods  # type: ignore[attr-defined]
        if m.client_streaming or m.server_streaming
    ]
    if streaming:
        # common/grpc_server.py checks callers on unary calls only: a stream would pass unchecked.
        raise ValueError(f"streaming RPCs {streaming} have no caller check; add one first")
    missing, extra = methods - table.keys(), table.keys() - methods
    if missing or extra:
        name = service.full_name  # type: ignore[attr-defined]
        raise ValueError(
            f"{name}'s access table: no policy for {sorted(missing)}, "
            f"a policy for no method {sorted(extra)}"
        )


# ----- keys -----


def generate_keys(directory: Path, names: Iterable[str] = IDENTITIES) -> None:
    """A key pair per name, as `directory/private/<name>.pem` and `directory/public/<name>.pem`
    (the layout of SERVICE_PRIVATE_KEY_FILE=.../private/{service}.pem and
    SERVICE_PUBLIC_KEYS_DIR=.../public); a name that has both already keeps them."""
    private_dir, public_dir = directory / "private", directory / "public"
    private_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    public_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        private, public = private_dir / f"{name}.pem", public_dir / f"{name}.pem"
        if private.exists() and public.exists():
            continue
        private_pem, public_pem = generate_key_pair()
        private.write_text(private_pem)
        private.chmod(0o600)
        public.write_text(public_pem)


def key_settings(directory: Path) -> dict[str, str]:
    """The settings that give every process of one stack its identity from generate_keys's
    layout (each process reads its own private key: `{service}` is its name)."""
    return {
        "SERVICE_PRIVATE_KEY_FILE": str(directory / "private" / "{service}.pem"),
        "SERVICE_PUBLIC_KEYS_DIR": str(directory / "public"),
    }


def load_public_keys(directory: Path) -> dict[str, list[Ed25519PublicKey]]:
    """Each caller's public keys in `directory`: `<name>.pem`, and during a key rollover
    `<name>.<anything>.pem` beside it (both are accepted). A mounted Secret's `..data` entries
    are skipped."""
    keys: dict[str, list[Ed25519PublicKey]] = {}
    for path in sorted(directory.glob("*.pem")):
        name = path.name.split(".", 1)[0]
        if name not in IDENTITIES:
            raise ValueError(f"{path}: {name!r} is no known caller ({', '.join(IDENTITIES)})")
        key = serialization.load_pem_public_key(path.read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"{path} is not an Ed25519 public key")
        keys.setdefault(name, []).append(key)
    return keys


def load_private_key(pem: str) -> Ed25519PrivateKey:
    return ed25519_private_key(pem, "a service private key")


# ----- tokens -----


class ServiceTokens:
    """This process's tokens, one per callee, each reused until RENEW_BEFORE_SECONDS before its
    end."""

    def __init__(
        self,
        name: str,
        private_key: Ed25519PrivateKey,
        clock: Clock | None = None,
        lifetime_seconds: int = TOKEN_SECONDS,
    ) -> None:
        self.name = name
        self._key = private_key
        self.clock = clock or SystemClock()
        self.lifetime = lifetime_seconds
        self._tokens: dict[str, tuple[str, float]] = {}

    def token_for(self, audience: str) -> str:
        now = self.clock.now().timestamp()
        cached = self._tokens.get(audience)
        if cached is not None and cached[1] - now > min(RENEW_BEFORE_SECONDS, self.lifetime / 5):
            return cached[0]
        expires = int(now) + self.lifetime
        payload = {"iss": self.name, "aud": audience, "iat": int(now), "exp": expires}
        token = jwt.encode(payload, self._key, algorithm=ALGORITHM)
        self._tokens[audience] = (token, expires)
        return token

    def metadata_for(self, audience: str) -> tuple[str, str]:
        return (METADATA_KEY, self.token_for(audience))


class ServiceTokenVerifier:
    """Checks the tokens sent to `audience` (this service) by the callers whose public keys it
    has; returns the caller's name."""

    def __init__(
        self,
        audience: str,
        public_keys: Mapping[str, Sequence[Ed25519PublicKey]],
        clock: Clock | None = None,
    ) -> None:
        self.audience = audience
        self.keys = {name: list(keys) for name, keys in public_keys.items()}
        self.clock = clock or SystemClock()
        # A caller sends the same token for minutes: its signature is checked once.
        self._checked = functools.lru_cache(maxsize=VERIFIED_TOKENS)(self._check_signature)

    def verify(self, token: str) -> str:
        caller, expires = self._checked(token)
        if expires + LEEWAY_SECONDS <= self.clock.now().timestamp():
            raise Unauthenticated("Service token expired")
        return caller

    def _check_signature(self, token: str) -> tuple[str, int]:
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            raise Unauthenticated("Invalid service token") from None
        keys = self.keys.get(issuer, []) if isinstance(issuer, str) else []
        if not keys:
            raise Unauthenticated("Service token from an unknown caller")
        for key in keys:  # two during a rollover (load_public_keys)
            try:
                payload = jwt.decode(
                    token,
                    key,
                    algorithms=[ALGORITHM],
                    audience=self.audience,
                    # exp is checked by verify() against the injected clock.
                    options={"require": ["iss", "aud", "exp"], "verify_exp": False},
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError:
                raise Unauthenticated("Invalid service token") from None
            expires = payload["exp"]
            if not isinstance(expires, int) or isinstance(expires, bool):
                raise Unauthenticated("Invalid service token")
            return issuer, expires
        raise Unauthenticated("Invalid service token")


def audience_of(path: str | bytes) -> str:
    """The service a method path calls ('' for none of ours: health, reflection)."""
    text = path.decode() if isinstance(path, bytes) else str(path)
    return _AUDIENCES.get(text[: text.rfind("/") + 1], "")


class AttachServiceToken(grpc.aio.UnaryUnaryClientInterceptor):
    """A channel's calls carry `tokens`' service token for the service each one calls (for tools
    and tests that call services through plain stubs; the processes add it in their call())."""

    def __init__(self, tokens: ServiceTokens) -> None:
        self.tokens = tokens

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        audience = audience_of(client_call_details.method)
        if audience:
            pairs = [*(client_call_details.metadata or ()), self.tokens.metadata_for(audience)]
            client_call_details = client_call_details._replace(metadata=grpc.aio.Metadata(*pairs))
        return await continuation(client_call_details, request)


# ----- the caller of the RPC being served -----

_service: contextvars.ContextVar[str | None] = contextvars.ContextVar("service", default=None)


def current_service() -> str | None:
    """The verified calling process of this RPC (gateway, orders, cli...), or None."""
    return _service.get()


def set_current_service(name: str | None) -> None:
    _service.set(name)


def verifier_from(
    name: str, public_keys_dir: str | None, clock: Clock | None = None
) -> ServiceTokenVerifier:
    if not public_keys_dir:
        return ServiceTokenVerifier(name, {}, clock)
    return ServiceTokenVerifier(name, load_public_keys(Path(public_keys_dir)), clock)


def tokens_from_settings(
    name: str, settings: CommonSettings, clock: Clock | None = None
) -> ServiceTokens:
    """Process `name`'s tokens, with its own key from SERVICE_PRIVATE_KEY(_FILE)."""
    try:
        key = load_private_key(settings.service_private_key_of(name))
    except ValueError as exc:
        raise ConfigError(f"SERVICE_PRIVATE_KEY: {exc}") from None
    return ServiceTokens(name, key, clock)


def has_private_key(settings: CommonSettings) -> bool:
    return settings.service_private_key is not None or bool(settings.service_private_key_file)
