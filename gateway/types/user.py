"""Users as the API shows them: a public profile (DOM-1), its email to its owner only (NULL-7)."""

from __future__ import annotations

import strawberry

from gateway import global_ids
from gateway.context import Info
from gateway.cost import Cost
from gateway.types.common import Node
from gateway.types.sellers import DeliveryRecord, SellerAccount
from ticketing.payments.v1 import payments_pb2


@strawberry.type(
    description="A person with an account, as anyone may see them: a public profile. Whether a "
    "ticket is the caller's own: compare `ticket.seller.id` with `currentUser.id`."
)
class User(Node):
    raw_id: strawberry.Private[str]
    # The address, when the gateway already knows this user is the caller (sign-in payloads).
    own_email: strawberry.Private[str | None] = None
    # Whether they hold the admin role, when the gateway has their fresh claims (sign-in payloads).
    own_admin: strawberry.Private[bool | None] = None

    @strawberry.field(
        description="The caller's own address, on their own User only; null on anyone else's "
        "(private, not a failure: no error)."
    )
    async def email(self, info: Info) -> str | None:
        if self.own_email is not None:
            return self.own_email
        claims = await info.context.user()
        return claims.email if claims is not None and claims.sub == self.raw_id else None

    @strawberry.field(
        description="Whether the caller holds the admin role (an operator: the admin pages and "
        "the operators' queries are theirs), on their own User only; null on anyone else's "
        "(private, not a failure: no error). As the session shows it: a role granted or taken "
        "shows from the next sign-in. A hint for what to show: the API checks the role itself."
    )
    async def is_admin(self, info: Info) -> bool | None:
        if self.own_admin is not None:
            return self.own_admin
        claims = await info.context.user()
        return claims.is_admin if claims is not None and claims.sub == self.raw_id else None

    @strawberry.field(
        description="The caller's payout set-up as a seller, on their own User only; null on "
        "anyone else's (private, not a failure: no error), or with an UNAVAILABLE error when "
        "payments cannot be reached.",
        directives=[Cost(weight=1)],
    )
    async def seller_account(self, info: Info) -> SellerAccount | None:
        ctx = info.context
        claims = await ctx.user()
        if claims is None or claims.sub != self.raw_id:
            return None
        reply = await ctx.call(
            ctx.clients.payments.GetSellerAccount, payments_pb2.GetSellerAccountRequest()
        )
        return SellerAccount.from_proto(reply.seller_account)

    @strawberry.field(
        description="Their record as a seller: orders delivered on time and missed (issue 22). "
        "Public. Null with an UNAVAILABLE error when the delivery service cannot be reached.",
        directives=[Cost(weight=1)],
    )
    async def delivery_record(self, info: Info) -> DeliveryRecord | None:
        reply = await info.context.seller_records.load(self.raw_id)
        return DeliveryRecord(delivered=reply.delivered, missed=reply.missed)

    @classmethod
    def of(
        cls, raw_id: str, *, own_email: str | None = None, own_admin: bool | None = None
    ) -> User:
        return cls(
            id=strawberry.ID(global_ids.encode("User", raw_id)),
            raw_id=raw_id,
            own_email=own_email,
            own_admin=own_admin,
        )
