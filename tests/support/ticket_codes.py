"""Keys, rings and passes for the ticket-code tests (tests/unit/test_delivery_*.py): fixed
Ed25519 keys from RFC 8032's test seeds, so codes are reproducible."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from svc_delivery.adapters.signing_keys import code_key_id, raw_public_key
from svc_delivery.domain import codes
from svc_delivery.domain.keys import CodeKey, KeyRing
from svc_delivery.domain.passes import Pass

# RFC 8032 section 7.1, TEST 1 and TEST 2: the secret keys (seeds).
SEED_1 = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
SEED_2 = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
T0 = datetime(2026, 12, 1, tzinfo=UTC)


@dataclass(frozen=True)
class TestKey:
    private: Ed25519PrivateKey

    __test__ = False  # not a test class

    @classmethod
    def from_seed(cls, seed: bytes) -> TestKey:
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def key_id(self) -> str:
        return code_key_id(self.private)

    def code_key(self, not_before: datetime = T0, retired_at: datetime | None = None) -> CodeKey:
        return CodeKey(self.key_id, raw_public_key(self.private), not_before, retired_at)

    def encode(self, code: codes.TicketCode) -> str:
        return codes.encode(code, self.private.sign)


KEY_1, KEY_2 = TestKey.from_seed(SEED_1), TestKey.from_seed(SEED_2)


def ring_of(*keys: CodeKey) -> KeyRing:
    return KeyRing(tuple(keys))


def new_id() -> str:
    return str(uuid.uuid4())


def issued_pass(
    event_id: str | None = None, holder_id: str = "buyer-1", at: datetime = T0, seat: int = 0
) -> Pass:
    issued = Pass.issue(
        new_id(), event_id or new_id(), new_id(), seat, f"A{seat + 1}", holder_id, bytes(16), at
    )
    issued.events.clear()
    return issued


def later(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)
