"""The page an account link opens: the stand-in's Stripe-hosted onboarding (test only, not
Stripe's form). The seller chooses what Stripe would conclude, complete or something still due,
and is sent back to the platform's `return_url`; an expired or used link sends them to its
`refresh_url`, as Stripe's do (a link is good once, for five minutes)."""

from __future__ import annotations

import html
import time

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from stripe_standin.connect import Connect
from stripe_standin.http import form_of

CHOICES = {"complete": "Complete onboarding", "withhold": "Leave a document due"}


def page(connect: Connect, token: str) -> Response:
    link = connect.links.get(token)
    if link is None:
        return HTMLResponse("<p>This onboarding link does not exist.</p>", 404)
    if link["expires_at"] < time.time():
        return RedirectResponse(link["refresh_url"], 303)
    account = html.escape(link["account"])
    buttons = "".join(
        f'<button type="submit" name="outcome" value="{value}">{label}</button> '
        for value, label in CHOICES.items()
    )
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>Onboarding (Stripe stand-in)</title></head><body>"
        f"<h1>Set up payouts for {account}</h1>"
        "<p>The Stripe stand-in's onboarding: choose what Stripe would conclude.</p>"
        f'<form method="post">{buttons}</form></body></html>'
    )


async def answer(connect: Connect, request: Request) -> Response:
    """The seller's choice on the page: the account is onboarded (or left with something due),
    the link is used up, and the seller goes back to the platform."""
    token = request.path_params["token"]
    link = connect.links.pop(token, None)
    if link is None:
        return HTMLResponse("<p>This onboarding link does not exist.</p>", 404)
    if link["expires_at"] < time.time():
        return RedirectResponse(link["refresh_url"], 303)
    outcome = form_of((await request.body()).decode(errors="replace")).get("outcome")
    if outcome == "complete":
        connect.complete_onboarding(link["account"])
    elif outcome == "withhold":
        connect.withhold_onboarding(link["account"])
    else:
        connect.links[token] = link
        return HTMLResponse("<p>Choose one of the buttons.</p>", 400)
    return RedirectResponse(link["return_url"], 303)
