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
    "charge": [
        "id",
        "object",
        "amount",
        "amount_refunded",
        "refunded",
        "paid",
        "status",
        "currency",
        "payment_intent",
        "disputed",
        "balance_transaction",
        "metadata",
        "created",
    ],
    "payment_method": ["id", "object", "type", "card.brand", "card.last4", "created", "metadata"],
    "dispute": [
        "id",
        "object",
        "amount",
        "currency",
        "charge",
        "payment_intent",
        "reason",
        "status",
        "evidence.customer_name",
        "evidence.uncategorized_text",
        "evidence_details.due_by",
        "evidence_details.has_evidence",
        "evidence_details.submission_count",
        "balance_transactions",
        "is_charge_refundable",
        "metadata",
        "created",
        "livemode",
    ],
    "event": [
        "id",
        "object",
        "type",
        "api_version",
        "created",
        "data",
        "livemode",
        "pending_webhooks",
    ],
    "webhook_endpoint": ["id", "object", "url", "enabled_events", "status", "created", "livemode"],
    "error": ["error", "error.type", "error.message", "error.code", "error.param"],
}

# The endpoints the stand-in answers (stripe_standin/routes.py), as the spec names their paths:
# for each, the parameters Stripe takes (a POST's form body, a GET's query) and those it
# requires. tests/contract checks that the stand-in takes no parameter Stripe would refuse.
REQUESTS: list[tuple[str, str]] = [
    ("/v1/payment_intents", "post"),
    ("/v1/payment_intents/{intent}", "get"),
    ("/v1/payment_methods", "post"),
    ("/v1/payment_methods/{payment_method}", "get"),
    ("/v1/charges/{charge}", "get"),
    ("/v1/refunds", "post"),
    ("/v1/refunds/{refund}", "get"),
    ("/v1/accounts", "post"),
    ("/v1/accounts/{account}", "get"),
    ("/v1/account_links", "post"),
    ("/v1/transfers", "post"),
    ("/v1/transfers/{transfer}", "get"),
    ("/v1/transfers/{id}/reversals", "post"),
    ("/v1/balance_transactions", "get"),
    ("/v1/disputes", "get"),
    ("/v1/disputes/{dispute}", "get"),
    ("/v1/disputes/{dispute}", "post"),
    ("/v1/disputes/{dispute}/close", "post"),
    ("/v1/events", "get"),
    ("/v1/events/{id}", "get"),
    ("/v1/webhook_endpoints", "post"),
    ("/v1/webhook_endpoints", "get"),
    ("/v1/webhook_endpoints/{webhook_endpoint}", "get"),
    ("/v1/webhook_endpoints/{webhook_endpoint}", "post"),
    ("/v1/webhook_endpoints/{webhook_endpoint}", "delete"),
]

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


def parameters(spec: dict[str, Any], path: str, verb: str) -> dict[str, Any]:
    """What Stripe takes at one endpoint: each parameter's pointer, and which are required."""
    pointer = f"#/paths/{escape(path)}/{verb}"
    operation = spec["paths"][path][verb]
    if verb == "post" and "requestBody" in operation:
        body = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]
        schema = body["schema"]
        at = f"{pointer}/requestBody/content/application~1x-www-form-urlencoded/schema/properties"
        return {
            "pointer": pointer,
            "params": {name: f"{at}/{escape(name)}" for name in schema.get("properties", {})},
            "required": schema.get("required", []),
        }
    query = [
        (i, p) for i, p in enumerate(operation.get("parameters", [])) if p.get("in") == "query"
    ]
    return {
        "pointer": pointer,
        "params": {p["name"]: f"{pointer}/parameters/{i}" for i, p in query},
        "required": [p["name"] for _, p in query if p.get("required")],
    }


def contract(
    spec: dict[str, Any],
    commit: str,
    fields: dict[str, list[str]] = FIELDS,
    requests: list[tuple[str, str]] = REQUESTS,
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
        "requests": {
            f"{verb.upper()} {path}": parameters(spec, path, verb) for path, verb in requests
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
