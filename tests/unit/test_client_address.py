"""The client address the gateway's rate limits key on: X-Forwarded-For is believed only from a
trusted proxy (TRUSTED_PROXIES), and then only its rightmost untrusted hop."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from common.settings import ConfigError
from gateway.config import GatewaySettings
from gateway.rate_limits.client_address import address_key, client_address, trusted_proxies


async def seen_address(peer: str, forwarded_for: list[str], trusted: str | None = None) -> str:
    """The address the gateway sees for a request from `peer` carrying these headers."""

    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(client_address(request))

    env = {} if trusted is None else {"TRUSTED_PROXIES": trusted}
    app = Starlette(
        routes=[Route("/", echo)], middleware=[trusted_proxies(GatewaySettings.from_env(env))]
    )
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    headers = [("x-forwarded-for", value) for value in forwarded_for]
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return (await client.get("/", headers=headers)).text


async def test_without_a_proxy_the_peer_is_the_client() -> None:
    assert await seen_address("203.0.113.9", []) == "203.0.113.9"


async def test_an_untrusted_peer_cannot_choose_its_address() -> None:
    assert await seen_address("203.0.113.9", ["198.51.100.1"]) == "203.0.113.9"


async def test_a_trusted_proxy_names_the_client() -> None:
    # The default trusts loopback only: a proxy on the same host.
    assert await seen_address("127.0.0.1", ["198.51.100.1"]) == "198.51.100.1"
    assert await seen_address("::1", ["2001:db8::1"]) == "2001:db8::1"


async def test_what_the_client_wrote_itself_is_ignored() -> None:
    # The client sent "X-Forwarded-For: 6.6.6.6"; the proxy appended the address it saw.
    assert await seen_address("127.0.0.1", ["6.6.6.6, 198.51.100.1"]) == "198.51.100.1"
    assert await seen_address("127.0.0.1", ["6.6.6.6", "198.51.100.1"]) == "198.51.100.1"


async def test_a_chain_of_trusted_proxies_is_walked_from_the_right() -> None:
    trusted = "10.0.0.0/8, 127.0.0.1"
    chain = ["6.6.6.6, 198.51.100.1, 10.1.2.3"]  # spoofed, client, load balancer
    assert await seen_address("10.9.9.9", chain, trusted) == "198.51.100.1"


async def test_with_no_trusted_proxy_even_loopback_is_not_believed() -> None:
    assert await seen_address("127.0.0.1", ["198.51.100.1"], trusted="") == "127.0.0.1"


def test_an_ipv6_client_is_keyed_by_its_64() -> None:
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:198.51.100.1") == address_key("198.51.100.1") == "198.51.100.1"


def test_something_that_is_not_an_address_gets_a_bounded_key() -> None:
    key = address_key("x" * 10_000)
    assert key.startswith("other-") and len(key) < 64
    assert address_key("") != address_key("testclient")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRUSTED_PROXIES": "10.0.0.0/33"}, "TRUSTED_PROXIES must be IP addresses or CIDRs"),
        ({"TRUSTED_PROXIES": "*"}, "TRUSTED_PROXIES must be IP addresses or CIDRs, got '*'"),
        ({"SIGNIN_ADDRESS_LIMIT": "-1"}, "SIGNIN_ADDRESS_LIMIT must be 0 (off) or more"),
        ({"GRAPHQL_USER_WINDOW_SECONDS": "0"}, "GRAPHQL_USER_WINDOW_SECONDS must be at least 1"),
    ],
)
def test_bad_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        GatewaySettings.from_env(env)
