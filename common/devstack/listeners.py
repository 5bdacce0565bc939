"""Which sockets the processes of `ticketing run` listen on, so that it accepts a port only when
what listens there is what it started.

Answering on a port proves nothing: another stack's database or Stripe stand-in on the same
port answers too, and a stack that took that for its own reported ready, then stopped itself
once its own server had failed to bind six times. A port is taken as the stack's when the child
started for it (or a process that child started: RabbitMQ's script starts the Erlang VM) holds
the listening socket.
"""

from __future__ import annotations

import socket
import time

import psutil

from common.devstack.children import Child
from common.devstack.stack import StackError


def listening_sockets(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every listening TCP socket of the process and its descendants."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return set()
    found = set()
    for process in processes:
        try:
            connections = process.net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            continue
        found |= {(c.laddr.ip, c.laddr.port) for c in connections if c.status == psutil.CONN_LISTEN}
    return found


def listens_on(child: Child, port: int) -> bool:
    return child.pid is not None and any(p == port for _, p in listening_sockets(child.pid))


def answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def taken_by_another(port: int, setting: str | None, what: str) -> str:
    named = f" ({setting})" if setting else ""
    fix = f"; set {setting} to a free port" if setting else ""
    return (
        f"port {port}{named} answers, but not from the {what} this stack started: another "
        f"server holds it (another `ticketing run`?). Nothing of it is used{fix}."
    )


def wait_until_listening(
    child: Child, port: int, timeout: float, what: str, setting: str | None = None
) -> None:
    """Until `child` listens on `port`; StackError if it exits first or the time runs out,
    saying so when something else answers there instead."""
    deadline = time.monotonic() + timeout
    while not listens_on(child, port):
        exited = child.exit_code() is not None
        if exited or time.monotonic() > deadline:
            if answers(port):
                raise StackError(taken_by_another(port, setting, what))
            raise StackError(did_not_start(what, child))
        time.sleep(0.1)


def did_not_start(what: str, child: Child) -> str:
    child.drain_output(timeout=0.5)
    lines = "\n".join(f"    {line}" for line in child.last_lines)
    return f"{what} did not start" + (f"; its last lines:\n{lines}" if lines else "")
