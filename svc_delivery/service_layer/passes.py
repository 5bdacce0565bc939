"""Passes: issued when a delivery completes, read by their holder (with the code) and the
order's parties, and transferred by e-mail (docs/design/delivery.md §4).

A pass's code is derived on read, never stored: it is the pass's current fields signed with the
key that signs now (`CodeSigner`). Ed25519 signatures are deterministic, so one pass read twice
under one key shows one code; after a rotation, or once a key is retired, the holder's page shows
the code signed anew with no migration of stored codes, and nothing secret beyond the keys
themselves rests in the database.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from common.clock import Clock, stored_precision
from common.errors import Conflict, InvalidInput, NotFound
from common.pagination import Page, page_request
from common.retries import retry_transient
from svc_delivery.domain.codes import TicketCode
from svc_delivery.domain.deliveries import Delivery
from svc_delivery.domain.passes import HOLDER_SALT_BYTES, Pass, PassState
from svc_delivery.service_layer.commands import Caller
from svc_delivery.service_layer.unit_of_work import DeliveryUnitOfWork


class CodeSigner(Protocol):
    """The ticket-code keys (svc_delivery/adapters/signing_keys.py)."""

    def signing_key_id(self, at: datetime) -> str: ...

    def sign(self, code: TicketCode) -> str: ...

    def published_keys(self) -> dict[str, Any]:
        """The key ring as a JWK Set."""
        ...


@dataclass(frozen=True)
class PassView:
    """A pass as one caller sees it: its code only for its holder, while it has one."""

    pass_: Pass
    code: str
    entered_at: datetime | None
    shows_holder: bool


async def issue_passes(uow: DeliveryUnitOfWork, delivery: Delivery, now: datetime) -> list[Pass]:
    """One pass per seat of a delivered order, issue 1, to its buyer, in the transaction that
    records the delivery. None for a listing with no catalogue event: no door could admit it."""
    if not delivery.event_id:
        return []
    issued = []
    for seat in range(delivery.quantity):
        label = delivery.seat_labels[seat] if seat < len(delivery.seat_labels) else ""
        issued.append(
            Pass.issue(
                id=str(uuid.uuid4()),
                event_id=delivery.event_id,
                order_id=delivery.order_id,
                seat=seat,
                seat_label=label,
                holder_id=delivery.buyer_id,
                holder_salt=secrets.token_bytes(HOLDER_SALT_BYTES),
                now=now,
            )
        )
    for one in issued:
        await uow.passes.add(one)
    return issued


class PassHandlers:
    def __init__(
        self, uow: Callable[[], DeliveryUnitOfWork], clock: Clock, signer: CodeSigner
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.signer = signer

    # Reads ---------------------------------------------------------------------------------

    async def list_mine(
        self, caller: Caller, event_id: str, page_size: int, page_token: str
    ) -> Page[PassView]:
        request = page_request(page_size, page_token)
        async with self.uow() as uow:
            page = await uow.passes.held_by(caller.user_id, event_id, request)
            views = await self._views(uow, caller, page.items)
        return Page(views, page.next_token, page.has_next, page.has_previous)

    async def list_order(self, caller: Caller, order_id: str) -> list[PassView]:
        async with self.uow() as uow:
            delivery = await uow.deliveries.get(order_id)
            if delivery is None or not delivery.visible_to(caller.user_id, caller.is_admin):
                raise NotFound("Order not found", field="order_id")
            return await self._views(uow, caller, await uow.passes.of_order(order_id))

    async def get(self, caller: Caller, pass_id: str) -> PassView:
        async with self.uow() as uow:
            found = await self._visible(uow, caller, pass_id)
            return (await self._views(uow, caller, [found]))[0]

    async def incoming(self, caller: Caller) -> list[Pass]:
        if not caller.email:
            return []
        async with self.uow() as uow:
            return await uow.passes.offered_to(caller.email.strip().lower())

    def ticket_keys(self) -> dict[str, Any]:
        return self.signer.published_keys()

    # Transfers -----------------------------------------------------------------------------

    @retry_transient()
    async def offer(
        self, caller: Caller, pass_id: str, to_email: str, expected_version: int
    ) -> PassView:
        email = to_email.strip().lower()
        if caller.email and email == caller.email.strip().lower():
            raise InvalidInput("You cannot transfer a pass to yourself", field="to_email")
        async with self.uow() as uow:
            held = await self._held(uow, caller, pass_id)
            retry = held.state is PassState.TRANSFER_OFFERED and held.offered_to == email
            if not retry and held.version != expected_version:
                raise Conflict(
                    "The pass changed since you saw it: reload it", field="expected_version"
                )
            if not retry:
                await self._not_entered(uow, held)
            if held.offer_transfer(caller.user_id, email, self._now()):
                await uow.passes.save(held)
                await uow.commit()
            return (await self._views(uow, caller, [held]))[0]

    @retry_transient()
    async def withdraw(self, caller: Caller, pass_id: str) -> PassView:
        async with self.uow() as uow:
            held = await self._held(uow, caller, pass_id)
            if held.withdraw_transfer(caller.user_id, self._now()):
                await uow.passes.save(held)
                await uow.commit()
            return (await self._views(uow, caller, [held]))[0]

    @retry_transient()
    async def accept(self, caller: Caller, pass_id: str) -> PassView:
        async with self.uow() as uow:
            found = await uow.passes.get(pass_id)
            if found is None or not caller.email:
                raise NotFound("No transfer offered to you", field="pass_id")
            # The recipient's retry (they hold it) is answered before any other check.
            if not (found.holder_id == caller.user_id and found.state is PassState.ACTIVE):
                if (
                    found.state is not PassState.TRANSFER_OFFERED
                    or found.offered_to != caller.email.strip().lower()
                ):
                    raise NotFound("No transfer offered to you", field="pass_id")
                await self._not_entered(uow, found)
            if found.accept_transfer(caller.user_id, caller.email, self._now()):
                await uow.passes.save(found)
                await uow.commit()
            return (await self._views(uow, caller, [found]))[0]

    # ---------------------------------------------------------------------------------------

    async def _held(self, uow: DeliveryUnitOfWork, caller: Caller, pass_id: str) -> Pass:
        found = await uow.passes.get(pass_id)
        if found is None or found.holder_id != caller.user_id:
            raise NotFound("Pass not found", field="pass_id")
        return found

    async def _visible(self, uow: DeliveryUnitOfWork, caller: Caller, pass_id: str) -> Pass:
        """The holder, the order's buyer and seller, and admins see a pass; others: NOT_FOUND."""
        found = await uow.passes.get(pass_id)
        if found is not None and (caller.is_admin or found.holder_id == caller.user_id):
            return found
        if found is not None:
            delivery = await uow.deliveries.get(found.order_id)
            if delivery is not None and delivery.visible_to(caller.user_id, False):
                return found
        raise NotFound("Pass not found", field="pass_id")

    async def _not_entered(self, uow: DeliveryUnitOfWork, one: Pass) -> None:
        if await uow.admissions.entered_at(one.event_id, [one.id]):
            raise Conflict("The pass was used for entry: it cannot change hands", field="pass_id")

    async def _views(
        self, uow: DeliveryUnitOfWork, caller: Caller, found: list[Pass]
    ) -> list[PassView]:
        entered: dict[str, datetime] = {}
        for event_id in {p.event_id for p in found}:
            entered.update(
                await uow.admissions.entered_at(
                    event_id, [p.id for p in found if p.event_id == event_id]
                )
            )
        now = self.clock.now()
        views = []
        for one in found:
            holds = one.holder_id == caller.user_id
            code = ""
            if holds and one.state in (PassState.ACTIVE, PassState.TRANSFER_OFFERED):
                code = self.signer.sign(one.code(self.signer.signing_key_id(now)))
            views.append(PassView(one, code, entered.get(one.id), holds or caller.is_admin))
        return views

    def _now(self) -> datetime:
        return stored_precision(self.clock.now())
