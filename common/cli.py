"""The `ticketing` command."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from common.services import SERVICES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ticketing", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run one service process (what a container runs)")
    serve.add_argument("service", choices=[s.name for s in SERVICES])
    sub.add_parser("run", help="run the whole marketplace locally, in the foreground")
    ev = sub.add_parser("events", help="inspect or replay a service's dead-lettered events")
    ev.add_argument("action", choices=["dead", "replay"])
    ev.add_argument("service")
    users = sub.add_parser("users", help="grant a user a role (operators)")
    users.add_argument("action", choices=["grant-admin"])
    users.add_argument("email")
    args = parser.parse_args(argv)

    if args.command == "serve":
        module = next(s.module for s in SERVICES if s.name == args.service)
        importlib.import_module(module).main()
    elif args.command == "run":
        from common.devstack import main as run_stack

        sys.exit(run_stack())
    elif args.command == "events":
        from common import bus
        from common.config import CommonSettings

        settings = CommonSettings.from_env()
        if args.action == "dead":
            for message in bus.dead_letters(settings.amqp_url, settings.namespace, args.service):
                print(json.dumps(message))
        else:
            moved = bus.replay_dead_letters(settings.amqp_url, settings.namespace, args.service)
            print(
                f"replayed {moved} message(s) to {bus.queue_name(settings.namespace, args.service)}"
            )
    elif args.command == "users":
        # Through auth's own code, against its database (svc_auth/entrypoints/cli.py).
        from svc_auth.entrypoints.cli import grant_admin

        sys.exit(grant_admin(args.email))
