"""Listening ports: whether one is free, and a clear error when it is not.

A port belongs to one process. Servers here bind without SO_REUSEPORT, so a second process on a
taken port fails instead of silently sharing the port's connections with the first.
"""

from __future__ import annotations

import errno
import random
import socket
import subprocess
import time


class PortInUse(OSError):
    """Another process listens on the port a server was told to use."""

    def __init__(self, port: int, setting: str | None = None) -> None:
        self.port = port
        self.setting = setting
        super().__init__(port_in_use_message(port, setting))


def port_in_use_message(port: int, setting: str | None = None) -> str:
    named = f" ({setting})" if setting else ""
    return f"port {port}{named} is already in use"


def _socket_for(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    # As servers do: a port whose last connections linger in TIME_WAIT is free to listen on,
    # one with a listener is not.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def listening_socket(host: str, port: int, setting: str | None = None) -> socket.socket:
    """A socket bound to host:port (not yet listening), or PortInUse naming the setting."""
    try:
        return _socket_for(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(port, setting) from None
        raise


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    try:
        _socket_for(host, port).close()
    except OSError:
        return False
    return True


# Below Linux's default ephemeral range (32768-60999), which the kernel hands out to outgoing
# connections and to `bind(0)`: a port picked there can be taken by any client's connection
# between the pick and the server's bind, which on a busy machine happens.
_PICK_FROM, _PICK_TO = 20000, 32767


# Ports this process has handed out: a caller often picks several before starting any server
# (a test's stack: 14 ports), and a port nothing listens on *yet* was picked twice about once in
# 150 stacks ("port ... (EXPIRATION_METRICS_PORT) is already in use"). Never twice, then, until
# half the range is spent.
_handed_out: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now and not handed out before by this process, for a server
    about to start (tests, private servers)."""
    if len(_handed_out) > (_PICK_TO - _PICK_FROM) // 2:
        _handed_out.clear()
    for _ in range(200):
        port = random.randint(_PICK_FROM, _PICK_TO)
        if port not in _handed_out and port_is_free(port):
            _handed_out.add(port)
            return port
    with socket.socket() as s:  # a crowded range: let the kernel choose
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float, child: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None and child.poll() is not None:
            return False
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False
