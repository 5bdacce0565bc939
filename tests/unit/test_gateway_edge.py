"""The edge's per-address count (gateway/edge.py): an address is its rate-limit key (an IPv6
client by its /64, an IPv4-mapped one as IPv4), trusted proxies take no place, a place given back
is free again; and the edge's settings are checked at start."""

from __future__ import annotations

import ipaddress

import pytest

from common.settings import ConfigError
from gateway.config import GatewaySettings
from gateway.edge import AddressCap


def cap(per_address: int = 2) -> AddressCap:
    return AddressCap(per_address, (ipaddress.ip_network("10.0.0.0/8"),))


def test_an_address_holds_its_places_and_gets_one_back_when_given():
    addresses = cap()
    first, second = addresses.admit("203.0.113.7"), addresses.admit("203.0.113.7")
    assert first == second == (True, "203.0.113.7")
    assert addresses.admit("203.0.113.7") == (False, None)
    assert addresses.admit("203.0.113.8")[0]  # another address: its own count
    addresses.release("203.0.113.7")
    assert addresses.admit("203.0.113.7") == (True, "203.0.113.7")


def test_an_ipv6_client_is_counted_by_its_64_and_a_mapped_ipv4_as_ipv4():
    addresses = cap()
    assert addresses.admit("2001:db8:1:2::1")[0] and addresses.admit("2001:db8:1:2::ffff")[0]
    assert addresses.admit("2001:db8:1:2:aaaa::3") == (False, None)  # the same /64
    assert addresses.admit("2001:db8:1:3::1")[0]
    assert addresses.admit("::ffff:203.0.113.9") == (True, "203.0.113.9")


def test_trusted_proxies_and_no_cap_take_no_place():
    addresses = cap(per_address=1)
    assert all(addresses.admit("10.1.2.3") == (True, None) for _ in range(5))
    assert all(addresses.admit("::ffff:10.1.2.3") == (True, None) for _ in range(5))
    assert addresses.open == {}
    unlimited = cap(per_address=0)
    assert all(unlimited.admit("203.0.113.7") == (True, None) for _ in range(5))


def test_the_places_of_an_address_are_forgotten_when_all_are_given_back():
    addresses = cap()
    addresses.admit("203.0.113.7")
    addresses.release("203.0.113.7")
    assert addresses.open == {}  # an attacker's many addresses do not stay in memory


@pytest.mark.parametrize(
    "setting",
    [
        {"HTTP_HEADER_TIMEOUT_SECONDS": "0"},
        {"HTTP_BODY_TIMEOUT_SECONDS": "-1"},
        {"HTTP_KEEPALIVE_SECONDS": "0"},
        {"CONNECTIONS_PER_ADDRESS": "-1"},
        {"SUBSCRIPTION_MAX_MESSAGE_BYTES": "100"},
    ],
)
def test_edge_settings_out_of_range_are_refused_at_start(setting):
    with pytest.raises(ConfigError, match=next(iter(setting))):
        GatewaySettings.from_env(setting)
