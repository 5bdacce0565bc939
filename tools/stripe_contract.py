"""Writes tests/contract/stripe_contract.json from Stripe's published OpenAPI description: for
each object the stand-in (`stripe_standin/`) returns, the fields the project reads or will read
(docs/design/money.md), with their types, nullability and enum values, each carrying the JSON
pointer it came from. Run by a developer, not by CI (there is no network in CI), on a local copy
of `openapi/spec3.json` from the public `stripe/openapi` repository:

    python -m tools.stripe_contract path/to/spec3.json --commit <the commit it was read at>

A field path with a dot (`requirements.currently_due`) follows the `$ref` of its first part.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "tests" / "contract" / "stripe_contract.json"

FIELDS: dict[str, list[str]] = {
    "payment_intent": [
        "id",
        "object",
        "amount",
        "amount_received",
        "currency",
        "status",
        "client_secret",
        "created",
        "livemode",
        "metadata",
        "payment_method",
        "last_payment_error",
        "next_action",
        "transfer_group",
        "capture_method",
        "confirmation_method",
        "payment_method_types",
    ],
    "refund": [
        "id",
        "object",
        "amount",
        "currency",
        "charge",
        "payment_intent",
        "reason",
        "status",
        "metadata",
        "created",
        "balance_transaction",
    ],
    "account": [
        "id",
        "object",
        "type",
        "country",
        "email",
        "metadata",
        "created",
        "charges_enabled",
        "payouts_enabled",
        "details_submitted",
        "requirements.currently_due",
        "requirements.eventually_due",
        "requirements.past_due",
        "requirements.disabled_reason",
        "capabilities.transfers",
    ],
    "account_link": ["object", "created", "expires_at", "url"],
    "transfer": [
        "id",
        "object",
        "amount",
        "amount_reversed",
        "reversed",
        "currency",
        "destination",
        "source_transaction",
        "transfer_group",
        "metadata",
        "created",
        "livemode",
        "balance_transaction",
        "reversals",
    ],
    "transfer_reversal": [
        "id",
        "object",
        "amount",
        "currency",
        "transfer",
        "metadata",
        "created",
        "balance_transaction",
    ],
    "balance_transaction": [
        "id",
        "object",
        "type",
        "amount",
        "fee",
        "net",
        "currency",
        "source",
        "status",
        "created",
        "available_on",
        "fee_details",
    ],
    "error": ["error", "error.type", "error.message", "error.code", "error.param"],
}


# Fields Stripe sends only when they apply (an error's `code` and `param`); every other field
# listed above is one the project reads, so the stand-in must always send it, even where the
# spec leaves it optional (an account's `charges_enabled`).
SOMETIMES_ABSENT = {("error", "error.code"), ("error", "error.param")}


def escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def types_of(schema: dict[str, Any]) -> list[str]:
    """JSON types a value may take: an expandable field (`anyOf: [string, $ref]`) is either."""
    if "type" in schema:
        return [schema["type"]]
    if "$ref" in schema:
        return ["object"]
    found: list[str] = []
    for option in schema.get("anyOf", []):
        for kind in types_of(option):
            if kind not in found:
                found.append(kind)
    return found


def expectation(schemas: dict[str, Any], name: str, path: str) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    schema = schemas[name]
    pointer = f"#/components/schemas/{escape(name)}/properties/{escape(head)}"
    field = schema["properties"][head]
    if rest:
        target = field.get("$ref") or next(o["$ref"] for o in field["anyOf"] if "$ref" in o)
        return expectation(schemas, target.rsplit("/", 1)[1], rest)
    found: dict[str, Any] = {
        "pointer": pointer,
        "types": types_of(field),
        "nullable": bool(field.get("nullable")),
        "required": head in schema.get("required", []),
    }
    if "enum" in field:
        found["enum"] = field["enum"]
    return found


def contract(
    spec: dict[str, Any], commit: str, fields: dict[str, list[str]] = FIELDS
) -> dict[str, Any]:
    schemas = spec["components"]["schemas"]
    return {
        "source": {
            "repository": "stripe/openapi",
            "path": "openapi/spec3.json",
            "commit": commit,
            "api_version": spec.get("info", {}).get("version"),
        },
        "objects": {
            name: {
                "pointer": f"#/components/schemas/{escape(name)}",
                "fields": {
                    path: {
                        **expectation(schemas, name, path),
                        "always_sent": (name, path) not in SOMETIMES_ABSENT,
                    }
                    for path in paths
                },
            }
            for name, paths in fields.items()
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.stripe_contract", description=__doc__)
    parser.add_argument("spec", type=Path, help="a local copy of openapi/spec3.json")
    parser.add_argument("--commit", required=True, help="the stripe/openapi commit it is from")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    written = contract(json.loads(args.spec.read_text()), args.commit)
    args.out.write_text(json.dumps(written, indent=2, sort_keys=False) + "\n")


if __name__ == "__main__":
    main()
