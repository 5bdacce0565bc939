"""What a browser context's pages broke of their security headers: every Content-Security-Policy
violation (the `securitypolicyviolation` event, in every frame, reported to Python as it fires,
so a navigation loses none) and every console message Chromium writes about a CSP or a
Permissions-Policy (a blocked load, an eval, a feature the header names wrongly).

`people` (conftest.py) watches every context it opens and fails a test whose pages saw one;
test_security_headers.py proves that an inline script is caught."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, ConsoleMessage

BINDING = "__reportSecurityPolicyViolation"
# Runs before any script of every document and frame (Playwright's init scripts are not
# subject to the page's CSP, so the listener itself is never blocked).
LISTENER = f"""
document.addEventListener("securitypolicyviolation", (event) => {{
  window.{BINDING}([
    event.effectiveDirective,
    event.blockedURI,
    event.documentURI,
    event.sourceFile + ":" + event.lineNumber,
    event.sample,
  ].join(" | "));
}});
"""
CONSOLE_MARKS = ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy")


class PolicyViolations:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch(self, context: BrowserContext) -> None:
        context.expose_binding(BINDING, lambda _source, text: self.seen.append(f"event: {text}"))
        context.add_init_script(LISTENER)
        context.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if any(mark in message.text for mark in CONSOLE_MARKS):
            self.seen.append(f"console {message.type}: {message.text}")
