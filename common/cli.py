"""The `ticketing` command: the whole marketplace on this machine, one process of it, or a
service's dead-lettered events."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from datetime import date
from pathlib import Path

from common.command_paths import as_typed
from common.processes import EVENT_CONSUMERS, SERVICE_IDENTITIES, SERVICES, spec


def _prog() -> str:
    """This command as one types it from here (from the repository root:
    `.venv/bin/ticketing`), so that the usage and examples printed run as shown. Light: every
    `ticketing serve` builds the parser, so nothing of the dev stack is imported for it."""
    installed = Path(sys.executable).parent / "ticketing"
    return as_typed(installed) if installed.exists() else "ticketing"


def _examples(prog: str) -> str:
    consumer = "payments"
    examples = [
        (f"{prog} run", "the whole marketplace (what `make run` does)"),
        (f"{prog} demo", "fills it with events, sellers and listings (`make demo`)"),
        (f"{prog} events dead {consumer}", f"{consumer}' dead-lettered events, as JSON lines"),
        (f"{prog} events replay {consumer}", f"moves them back to {consumer}' queue"),
    ]
    width = max(len(command) for command, _ in examples)
    lines = [f"  {command.ljust(width)}  # {what}" for command, what in examples]
    return "\n".join(["examples (from the repository root):", *lines])


def parser() -> argparse.ArgumentParser:
    prog = _prog()
    root = argparse.ArgumentParser(
        prog=prog,
        description=__doc__,
        epilog=_examples(prog),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = root.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve",
        help="run one service process (what a container runs; its settings come from the"
        " environment, docs/reference/settings.md)",
    )
    serve.add_argument("service", choices=[s.name for s in SERVICES])
    sub.add_parser("run", help="run the whole marketplace locally, in the foreground")
    ev = sub.add_parser(
        "events",
        help="inspect or replay a service's dead-lettered events",
        description="A service's dead-lettered events (RabbitMQ queue <namespace>.<service>.dead):"
        " `dead` prints them as JSON lines and leaves them there, `replay` moves them back to"
        " the service's queue. Neither creates a queue.",
    )
    ev.add_argument("action", choices=["dead", "replay"])
    ev.add_argument("service", choices=EVENT_CONSUMERS, help="a service that consumes events")
    token = sub.add_parser(
        "service-token",
        help="print a service token, for grpcurl (-H 'x-service-token: ...'; operators)",
        description="A service token (docs/security.md, 'Services check who calls') signed with "
        "the private key of the process named by --as: SERVICE_PRIVATE_KEY(_FILE) as that process "
        "reads it, else the key `ticketing run` made in .run/service-keys.",
    )
    token.add_argument("--as", dest="caller", required=True, choices=SERVICE_IDENTITIES)
    token.add_argument("--for", dest="callee", required=True, choices=[s.name for s in SERVICES])
    keys = sub.add_parser(
        "service-keys",
        help="generate service key pairs into a directory (private/<name>.pem, public/<name>.pem)",
    )
    keys.add_argument("directory", type=Path)
    keys.add_argument(
        "--names", nargs="+", choices=SERVICE_IDENTITIES, default=list(SERVICE_IDENTITIES)
    )
    catalogue = sub.add_parser(
        "catalogue",
        help="import events into the catalogue from a JSON or CSV file (operators)",
        description="`import FILE`: a JSON array of objects or a CSV file with a header (columns"
        " external_ref, name, performers (;-separated), venue_name, city, country, time_zone,"
        " starts_at, ends_at, category), upserted by external_ref through the catalogue service"
        " (CATALOGUE_ADDR), signed with the `cli` service key. Prints each refused row and a"
        " summary; importing the same file again changes nothing.",
    )
    catalogue.add_argument("action", choices=["import"])
    catalogue.add_argument("file", type=Path)
    demo = sub.add_parser(
        "demo",
        help="fill the running `ticketing run` with a demo marketplace (what `make demo` does)",
        description="Imports a few hundred events (performers, venues in 40 cities, over the "
        "next five months) through the catalogue's import, signs up six sellers "
        "(seller1@demo.ticketing.test ... seller6@, password demo-seller-password) and lists "
        "seats for most events through the GraphQL API. Deterministic: the same --events, --seed "
        "and week give the same marketplace, and running it again creates nothing twice. Needs "
        "a `ticketing run` in TICKETING_RUN_DIR (.run). docs/demo.md.",
    )
    demo.add_argument("--events", type=_positive, default=300, help="how many events (300)")
    demo.add_argument("--seed", type=int, default=1, help="another seed, another marketplace (1)")
    demo.add_argument(
        "--start",
        type=date.fromisoformat,
        default=None,
        help="YYYY-MM-DD: events start from two weeks after the week of this day (today)",
    )
    migrate = sub.add_parser(
        "migrate",
        help="bring stored data up to date after an upgrade, once (operators; docs/operations.md)",
        description="Rewrites the tickets stored before listings of several seats as one-seat "
        "listings, and settles the holds of orders the orders service says were paid (sold) "
        "or cancelled (released). Reads the tickets database (MONGO_URL, TICKETING_NAMESPACE) "
        "and asks the orders service (ORDERS_ADDR), signed with the `cli` service key; beside "
        "a `ticketing run`, takes what is unset from it. Prints each change and a summary; "
        "running it again changes nothing.",
    )
    migrate.add_argument(
        "--dry-run", action="store_true", help="print what it would change, and change nothing"
    )
    reconcile = sub.add_parser(
        "reconcile",
        help="reconcile payments' ledger with Stripe now and print the report (operators)",
        description="Asks the payments service (PAYMENTS_ADDR), signed with the `cli` service "
        "key, to reconcile its ledger with Stripe's balance transactions over the window after "
        "the last report's, and prints the report it wrote: what matched, each difference with "
        "both sides' figures, Stripe's fees. Changes nothing but the reconciliation's own "
        "report and cursor. Exit status 0: no difference, 1: differences, 2: no report. "
        "docs/operations.md, 'Reconciling the ledger with Stripe'.",
    )
    reconcile.add_argument("--json", action="store_true", help="the report as JSON")
    users = sub.add_parser("users", help="grant a user a role (operators)")
    users.add_argument("action", choices=["grant-admin"])
    users.add_argument("email")
    keys = sub.add_parser(
        "keys",
        help="session-token keys: a new pair, or the key ids of PEM files (operators)",
        description="`generate DIR` writes a new Ed25519 pair (DIR/private.pem, readable by you"
        " only, and DIR/public.pem) and prints its key id; `ids FILE...` prints the key id (the"
        " `kid` of the tokens it signs or verifies) of every key in each PEM file, public or"
        " private. docs/security.md: the key rollover.",
    )
    keys.add_argument("action", choices=["generate", "ids"])
    keys.add_argument("paths", nargs="+", metavar="PATH")
    ticket_keys = sub.add_parser(
        "ticket-keys",
        help="ticket-code keys: generate (the first or the next), retire, show (operators)",
        description="The key directory the delivery service signs ticket codes with (README "
        "'Ticket codes'): `generate DIR [--not-before TIME]` adds a key that signs from TIME "
        "(now by default; a rotation a day or more ahead lets every scanner have it first); "
        "`retire DIR KID` refuses that key's codes from now and deletes its private half; "
        "`show DIR` prints the published ring. The service reads the directory at start.",
    )
    ticket_keys.add_argument("action", choices=["generate", "retire", "show"])
    ticket_keys.add_argument("directory", type=Path)
    ticket_keys.add_argument("key_id", nargs="?", metavar="KID")
    ticket_keys.add_argument("--not-before", metavar="ISO-8601")
    return root


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _demo(events: int, seed: int, start: date | None) -> int:
    try:
        from common.devstack.demo import command, plan
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("common.devstack"):
            raise
        print(NO_DEV_STACK.replace("ticketing run is", "ticketing demo needs"), file=sys.stderr)
        return 2
    from common.run_state import RunStateError

    try:
        addresses = command.stack_addresses(_with_run_service_keys(dict(os.environ)))
    except RunStateError as exc:
        print(f"{command.PROGRAM}: {exc}", file=sys.stderr)
        return 2
    week = plan.week_start(start or command.today())
    return command.run_demo(addresses, events, seed, week)


def _keys(action: str, paths: list[str]) -> int:
    from common import jwt_keys

    try:
        if action == "generate":
            if len(paths) != 1:
                raise ValueError("generate takes one directory")
            print(jwt_keys.generate_into(Path(paths[0])))
        else:
            for path in paths:
                for kid in jwt_keys.ids_in(Path(path).read_text()):
                    print(f"{kid}  {path}")
    except (OSError, ValueError) as exc:
        print(f"ticketing keys {action}: {exc}", file=sys.stderr)
        return 1
    return 0


def _events(action: str, service: str, env: dict[str, str]) -> int:
    import pika.exceptions

    from common import bus
    from common.config import CommonSettings

    settings = CommonSettings.from_env(env)
    amqp_url = settings.amqp_url.get_secret_value()
    try:
        if action == "dead":
            letters = bus.dead_letters(amqp_url, settings.namespace, service)
            for message in letters:
                print(json.dumps(message))
            if not letters:
                print(f"no dead-lettered events for {service}", file=sys.stderr)
            return 0
        moved = bus.replay_dead_letters(amqp_url, settings.namespace, service)
    except pika.exceptions.AMQPConnectionError as exc:
        host = pika.URLParameters(amqp_url).host
        print(f"error: cannot reach RabbitMQ at {host} (AMQP_URL): {exc!r}", file=sys.stderr)
        return 1
    except bus.DeadLetterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if moved:
        print(f"replayed {moved} event(s) to {bus.queue_name(settings.namespace, service)}")
    else:
        print(f"no dead-lettered events for {service}")
    return 0


# The images hold no dev stack (.dockerignore): `ticketing run` is for a source checkout.
NO_DEV_STACK = (
    "ticketing run is a development command: it starts the whole marketplace (with SecantusDB "
    "and the Stripe stand-in) from a source checkout, with `make run`. This installation has no "
    "dev stack, as in the images: run one process with `ticketing serve NAME`, or the whole stack "
    "with `docker compose up --wait` (docs/deploying.md)."
)


def _serve(name: str) -> int | None:
    service = spec(name)
    try:
        module = importlib.import_module(service.module)
    except ModuleNotFoundError as exc:
        if service.extra is None or (exc.name or "").startswith(("common", "svc_", "gateway")):
            raise
        extra = service.extra
        return (
            f"ticketing serve {name}: {exc}. {name} needs the `{extra}` extra: run it from the "
            f"ticketing-{extra} image (or pip install 'ticketing[{extra}]')."
        )
    return module.main()


def _with_run_service_keys(env: dict[str, str]) -> dict[str, str]:
    """`env`, with the service keys a `ticketing run` made (.run/service-keys) when it names
    none."""
    from common.run_state import run_dir_of

    if not (env.get("SERVICE_PRIVATE_KEY") or env.get("SERVICE_PRIVATE_KEY_FILE")):
        keys = run_dir_of(env) / "service-keys" / "private" / "{service}.pem"
        env = {**env, "SERVICE_PRIVATE_KEY_FILE": str(keys)}
    return env


def _service_token(caller: str, callee: str) -> int:
    from common.config import CommonSettings
    from common.service_identity import ServiceTokens, load_private_key
    from common.settings import ConfigError

    env = _with_run_service_keys(dict(os.environ))
    try:
        pem = CommonSettings.from_env(env).service_private_key_of(caller)
        print(ServiceTokens(caller, load_private_key(pem)).token_for(callee))
    except (ConfigError, ValueError) as exc:
        print(f"ticketing service-token: {exc}", file=sys.stderr)
        return 1
    return 0


def _beside_the_stack(program: str) -> dict[str, str]:
    """The environment, with what it leaves unset of the namespace and the addresses of the
    database and broker taken from the `ticketing run` in TICKETING_RUN_DIR (.run), if one
    runs there; exits 2 if that directory holds the state of a stack that is gone."""
    from common.run_state import RunStateError, with_running_stack

    try:
        return with_running_stack(os.environ)
    except RunStateError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        sys.exit(2)


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)

    if args.command == "serve":
        sys.exit(_serve(args.service))
    elif args.command == "run":
        try:
            from common.devstack import main as run_stack
        except ModuleNotFoundError as exc:
            if exc.name != "common.devstack":
                raise
            sys.exit(NO_DEV_STACK)
        sys.exit(run_stack())
    elif args.command == "events":
        sys.exit(_events(args.action, args.service, _beside_the_stack("ticketing events")))
    elif args.command == "service-token":
        sys.exit(_service_token(args.caller, args.callee))
    elif args.command == "service-keys":
        from common.service_identity import generate_keys

        generate_keys(args.directory, args.names)
        print(f"service keys of {', '.join(args.names)} in {args.directory}")
    elif args.command == "catalogue":
        from svc_catalogue.entrypoints.cli import PROGRAM as IMPORT
        from svc_catalogue.entrypoints.cli import import_file

        env = _with_run_service_keys(_beside_the_stack(IMPORT))
        sys.exit(import_file(args.file, env))
    elif args.command == "demo":
        sys.exit(_demo(args.events, args.seed, args.start))
    elif args.command == "migrate":
        from svc_tickets.entrypoints.migrate import PROGRAM as MIGRATE
        from svc_tickets.entrypoints.migrate import run_migration

        sys.exit(run_migration(_with_run_service_keys(_beside_the_stack(MIGRATE)), args.dry_run))
    elif args.command == "reconcile":
        from svc_payments.entrypoints.cli import PROGRAM as RECONCILE
        from svc_payments.entrypoints.cli import reconcile

        sys.exit(reconcile(_with_run_service_keys(_beside_the_stack(RECONCILE)), args.json))
    elif args.command == "users":
        # Through auth's own code, against its database (svc_auth/entrypoints/cli.py).
        from svc_auth.entrypoints.cli import PROGRAM, grant_admin

        sys.exit(grant_admin(args.email, _beside_the_stack(PROGRAM)))
    elif args.command == "keys":
        sys.exit(_keys(args.action, args.paths))
    elif args.command == "ticket-keys":
        from svc_delivery.entrypoints.cli import run as ticket_keys

        sys.exit(ticket_keys(args.action, args.directory, args.key_id, args.not_before))
