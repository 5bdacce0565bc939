"""The roles a user may be granted (`ticketing users grant-admin EMAIL`): standard library only,
so the auth domain checks a role without loading the token code; a token lists its user's in its
`roles` claim (`common/jwt.py`)."""

from __future__ import annotations

# `admin`: the marketplace's operators (the market reports).
ADMIN = "admin"
ROLES = (ADMIN,)
