"""localstripe on one address: `python -m common.devstack.localstripe_server --port N`.

localstripe's own command binds `[::]` with IPv4 mapped, so every interface of the machine
reaches the development Stripe stand-in; it has no option to choose. This runs the same aiohttp
application on a socket of our choosing (127.0.0.1 by default), in a process of its own as the
command does, and always from scratch (the command's `--from-scratch`: nothing loaded from a
previous run).
"""

from __future__ import annotations

import argparse
import logging
import socket


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m common.devstack.localstripe_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)

    from aiohttp import web
    from localstripe.server import app

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # As localstripe does: a restart may take the port while old connections linger in
    # TIME_WAIT (SO_REUSEADDR never lets two listeners share it).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    access = logging.getLogger("aiohttp.access")
    access.setLevel(logging.DEBUG)
    access.addHandler(logging.StreamHandler())
    web.run_app(app, sock=sock, access_log=access, print=None)


if __name__ == "__main__":
    main()
