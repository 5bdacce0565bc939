"""`free_port` hands each port out once: a test's stack picks all its ports before starting any
server, so a port nothing listens on yet must not come back for the next pick."""

from __future__ import annotations

from common.ports import free_port, port_is_free


def test_ports_picked_before_any_server_starts_are_all_different():
    picked = [free_port() for _ in range(2_000)]  # random picks would repeat ~150 times
    assert len(set(picked)) == len(picked)
    assert all(port_is_free(port) for port in picked[:20])
