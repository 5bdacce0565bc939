"""Device tokens: what makes a browser or app "a device that signed in to this account before"
(svc_auth/service_layer/signin_throttle.py), kept by the client (the gateway's `device` cookie)
and shown again at the next sign-in.

An EdDSA JWT signed with auth's private key, like a session token, but never usable as one, nor
a session token as one of these: its header says `typ: device+jwt` and its `aud` is the
deployment's issuer followed by `:device` (not the sessions' audience), both required here; and
it has no `email`, which session tokens require (common.jwt). Like a session token it is bound to
its deployment (`iss`, common.jwt.TokenBinding) and names its key by `kid`: any key of
JWT_PUBLIC_KEY verifies it, so a key rollover leaves known devices known. It names the user
(`sub`) and a random device id (`did`, what the device's failed attempts are counted by) and
lives DEVICE_TOKEN_TTL_SECONDS; each successful sign-in from the device renews it with the same
`did`.

It grants nothing but a count of its own: no session, no data. Reading one never raises: a token
that is not ours, altered, expired or of the wrong kind is as good as none (the device is
unknown), so it can buy no bypass and says nothing about why it was refused.
"""

from __future__ import annotations

from datetime import timedelta

import jwt

from common.clock import Clock
from common.jwt import (
    ALGORITHM,
    DEFAULT_BINDING,
    TokenBinding,
    ed25519_private_key,
    key_id,
    public_keys,
)
from svc_auth.domain.device import Device

TYPE = "device+jwt"
AUDIENCE_SUFFIX = ":device"
# A longer string is no token of ours: not worth a signature check.
MAX_TOKEN_CHARS = 2048


class DeviceTokens:
    def __init__(
        self,
        private_key_pem: str,
        ttl_seconds: int,
        clock: Clock,
        binding: TokenBinding | None = None,
        public_keys_pem: str | None = None,
    ) -> None:
        key = ed25519_private_key(private_key_pem)
        self._key = key
        self._key_id = key_id(key.public_key())
        # The keys that verify: every public key configured (a rollover's old and new), else the
        # private key's own.
        self._public_keys = (
            public_keys(public_keys_pem) if public_keys_pem else {self._key_id: key.public_key()}
        )
        self.binding = binding or DEFAULT_BINDING
        self.audience = self.binding.issuer + AUDIENCE_SUFFIX
        self.ttl = timedelta(seconds=ttl_seconds)
        self.clock = clock

    def issue(self, device: Device) -> str:
        now = self.clock.now()
        payload = {
            "sub": device.user_id,
            "did": device.device_id,
            "iss": self.binding.issuer,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "exp": int((now + self.ttl).timestamp()),
        }
        return jwt.encode(
            payload, self._key, algorithm=ALGORITHM, headers={"typ": TYPE, "kid": self._key_id}
        )

    def read(self, token: str | None) -> Device | None:
        """The device a valid token of ours names; None for anything else."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            return None
        try:
            header = jwt.get_unverified_header(token)
            if header.get("typ") != TYPE:
                return None
            key = self._public_keys.get(header.get("kid"))  # type: ignore[arg-type]
            if key is None:
                return None
            payload = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.binding.issuer,
                options={"require": ["sub", "did", "iss", "aud", "exp"], "verify_exp": False},
            )
        except jwt.PyJWTError:
            return None
        user_id, device_id, exp = payload["sub"], payload["did"], payload["exp"]
        if not (isinstance(user_id, str) and isinstance(device_id, str) and user_id and device_id):
            return None
        if not isinstance(exp, int) or isinstance(exp, bool):
            return None
        if exp <= self.clock.now().timestamp():  # expiry by the injected clock, as common.jwt
            return None
        return Device(user_id, device_id)
