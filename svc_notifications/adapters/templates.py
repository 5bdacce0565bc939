"""The mails' words: one Jinja2 template per kind in HTML and in text (adapters/templates/), the
HTML autoescaped (a value from an event cannot become markup), both filled from the mail's
facts, and a subject per kind. Loaded once, at start, from the package."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from svc_notifications.domain.mails import Mail, MailKind
from svc_notifications.service_layer.ports import Rendered

SUBJECTS: dict[MailKind, str] = {
    MailKind.ORDER_CONFIRMED: "Your order {{ order_id }} is confirmed: {{ total }}",
    MailKind.ORDER_EXPIRED: "Your order {{ order_id }} expired",
    MailKind.REFUND_ISSUED: "A refund of {{ amount }} for order {{ order_id }}",
    MailKind.PAYOUT_PAID: "You were paid {{ amount }} for order {{ order_id }}",
    MailKind.TICKETS_DELIVERED: "Your tickets for order {{ order_id }} are here",
    MailKind.DELIVERY_MISSED: "Order {{ order_id }}: the tickets were not delivered in time",
    MailKind.DELIVERY_DEADLINE_APPROACHING: "Deliver order {{ order_id }} by {{ deliver_by }}",
    MailKind.TRANSFER_RECEIVED: "A ticket was offered to you",
    MailKind.TICKET_READY: "Your ticket is ready",
    MailKind.TICKET_HANDED_OVER: "{% if reason == 'resale' %}Your ticket was resold"
    "{% else %}Your ticket was transferred{% endif %}",
}


class JinjaTemplates:
    def __init__(self) -> None:
        loader = PackageLoader("svc_notifications", "adapters/templates")
        self.html = Environment(
            loader=loader,
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        # Text has nothing to escape; StrictUndefined: a fact a template names but the mail
        # lacks is a bug, not an empty line.
        self.text = Environment(loader=loader, autoescape=False, undefined=StrictUndefined)
        self._subjects = {kind: self.text.from_string(s) for kind, s in SUBJECTS.items()}

    def render(self, mail: Mail) -> Rendered:
        values = mail.facts
        # A subject is one header line: no line breaks from a value.
        subject = " ".join(self._subjects[mail.kind].render(values).split())
        return Rendered(
            subject=subject,
            text=self.text.get_template(f"{mail.kind.value}.txt").render(values),
            html=self.html.get_template(f"{mail.kind.value}.html").render(values),
        )
