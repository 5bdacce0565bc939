"""Who may call each RPC of AuthService (common/service_identity.py; docs/security.md)."""

from common.service_identity import GATEWAY, Access, access

ACCESS: dict[str, Access] = {
    # Before there is a user: the gateway's sign-up and sign-in (its limits apply there).
    "SignUp": access(GATEWAY),
    "SignIn": access(GATEWAY),
    # For the signed-in user, with their token.
    "SignOut": access(GATEWAY, user=True),
    "GetUser": access(GATEWAY, user=True),
    "ChangePassword": access(GATEWAY, user=True),
}
