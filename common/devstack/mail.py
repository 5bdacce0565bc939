"""The development mail server: maildev (tools/maildev/, from npm by `make maildev`), an SMTP
server that keeps what it receives and shows it in a web view (and over its REST API, GET /email,
which the tests read). `ticketing run` starts it when no SMTP relay is configured (SMTP_HOST
unset) and points notifications at it; it never ships in an image."""

from __future__ import annotations

import shutil

from common.devstack.children import Child, say
from common.devstack.infra import CHECKOUT
from common.devstack.listeners import wait_until_listening
from common.devstack.stack import Stack, StackError

MAILDEV = CHECKOUT / "tools" / "maildev" / "node_modules" / "maildev" / "bin" / "maildev"


def smtp_is_configured(env: dict[str, str]) -> bool:
    return bool(env.get("SMTP_HOST"))


def maildev_argv(smtp_port: int, web_port: int) -> list[str]:
    """maildev on 127.0.0.1 only, keeping mail in memory (a restart forgets it)."""
    node = shutil.which("node")
    if node is None or not MAILDEV.is_file():
        raise StackError(
            "the development mail server is not installed: run `make maildev` (needs Node.js), "
            "or set SMTP_HOST to a relay of your own"
        )
    return [
        node,
        str(MAILDEV),
        "--ip",
        "127.0.0.1",
        "--smtp",
        str(smtp_port),
        "--web",
        str(web_port),
        "--silent",
    ]


def ensure_mail(stack: Stack, smtp_port: int | None, web_port: int | None) -> Child | None:
    """maildev on its two ports unless a relay is configured; notifications sends to it."""
    env = stack.env
    if smtp_is_configured(env) or smtp_port is None or web_port is None:
        return None
    say(f"starting the development mail server (maildev) on ports {smtp_port} and {web_port}")
    child = stack.spawn("maildev", maildev_argv(smtp_port, web_port), quiet=True)
    wait_until_listening(child, smtp_port, 60, "the development mail server", "MAIL_SMTP_PORT")
    wait_until_listening(child, web_port, 60, "the development mail server", "MAIL_WEB_PORT")
    env["SMTP_HOST"], env["SMTP_PORT"] = "127.0.0.1", str(smtp_port)
    stack.write_state()
    return child
