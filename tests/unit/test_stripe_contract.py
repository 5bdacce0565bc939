"""The contract the Stripe stand-in's answers are checked against (tests/contract/
stripe_contract.json): it can fail, and each failure names the pointer into Stripe's OpenAPI
description it comes from; and tools/stripe_contract.py reads that description as it should."""

from __future__ import annotations

from stripe_standin import StripeStandIn
from stripe_standin.routes import endpoints
from tests.support.stripe_standin import CONTRACT, violations
from tools.stripe_contract import contract

TRANSFER = "#/components/schemas/transfer/properties"


def a_transfer(**changes) -> dict:
    transfer = {
        "id": "tr_1",
        "object": "transfer",
        "amount": 900,
        "amount_reversed": 0,
        "reversed": False,
        "currency": "eur",
        "destination": "acct_1",
        "source_transaction": "ch_1",
        "transfer_group": None,
        "metadata": {},
        "created": 1700000000,
        "livemode": False,
        "balance_transaction": "txn_1",
        "reversals": {"object": "list", "data": [], "has_more": False, "url": "/v1/x"},
    }
    return {**transfer, **changes}


def test_a_transfer_as_stripe_describes_it_passes() -> None:
    assert violations("transfer", a_transfer()) == []


def test_a_wrong_answer_is_reported_with_the_pointer_it_breaks() -> None:
    wrong = a_transfer(amount_reversed="0", reversed=None, object="payout", amount=True)
    del wrong["transfer_group"]
    assert violations("transfer", wrong) == [
        f"transfer.object: 'payout' is not one of ['transfer'] at {TRANSFER}/object",
        f"transfer.amount: True is not integer at {TRANSFER}/amount",
        f"transfer.amount_reversed: '0' is not integer at {TRANSFER}/amount_reversed",
        f"transfer.reversed: null, not nullable at {TRANSFER}/reversed",
        f"transfer.transfer_group: missing, expected at {TRANSFER}/transfer_group",
    ]


def test_a_nested_field_is_checked_at_the_schema_it_refers_to() -> None:
    account = {"id": "acct_1", "object": "account", "requirements": {"currently_due": "x"}}
    found = violations("account", account)
    assert (
        "account.requirements.currently_due: 'x' is not array at"
        " #/components/schemas/account_requirements/properties/currently_due"
    ) in found


def test_the_contract_names_the_spec_it_was_read_from() -> None:
    source = CONTRACT["source"]
    assert (source["repository"], source["path"]) == ("stripe/openapi", "openapi/spec3.json")
    assert len(source["commit"]) == 40


def test_the_tool_reads_types_nullability_enums_and_references() -> None:
    spec = {
        "components": {
            "schemas": {
                name: {"properties": {"id": {"type": "string"}}, "required": ["id"]}
                for name in (
                    "payment_intent",
                    "refund",
                    "account",
                    "account_link",
                    "transfer",
                    "transfer_reversal",
                    "balance_transaction",
                    "error",
                )
            }
        }
    }
    schemas = spec["components"]["schemas"]
    schemas["transfer"]["properties"].update(
        destination={
            "anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/account"}],
            "nullable": True,
        },
        object={"type": "string", "enum": ["transfer"]},
    )
    written = contract(spec, "0" * 40, {"transfer": ["destination", "object"]}, requests=[])
    fields = written["objects"]["transfer"]["fields"]
    assert fields["destination"] == {
        "pointer": f"{TRANSFER}/destination",
        "types": ["string", "object"],
        "nullable": True,
        "required": False,
        "always_sent": True,
    }
    assert fields["object"]["enum"] == ["transfer"]


# Parameters the stand-in takes that Stripe's API has now but the pinned description (2019-11-05)
# does not list yet; each was taken from the current `stripe` SDK's parameter types instead.
NEWER_THAN_THE_SPEC = {
    ("POST /v1/account_links", "refresh_url"),  # was failure_url
    ("POST /v1/account_links", "return_url"),  # was success_url
    ("POST /v1/accounts", "capabilities"),  # was requested_capabilities
    ("GET /v1/disputes", "payment_intent"),
    ("POST /v1/webhook_endpoints", "description"),
    ("POST /v1/webhook_endpoints", "metadata"),
    ("POST /v1/webhook_endpoints/{webhook_endpoint}", "description"),
    ("POST /v1/webhook_endpoints/{webhook_endpoint}", "metadata"),
}


def spec_key(path: str, verb: str) -> str:
    """The contract's key of a stand-in route: its `{id}` segments named as the spec names them."""
    for key in CONTRACT["requests"]:
        spec_verb, spec_path = key.split(" ", 1)
        spec_parts, parts = spec_path.split("/"), path.split("/")
        if spec_verb == verb and len(spec_parts) == len(parts):
            if all(
                a == b or (a.startswith("{") and b.startswith("{"))
                for a, b in zip(spec_parts, parts, strict=True)
            ):
                return key
    raise AssertionError(
        f"{verb} {path}: not in the contract's requests (tools/stripe_contract.py)"
    )


def test_the_stand_in_takes_no_parameter_stripe_would_refuse() -> None:
    taken = [
        (spec_key(e.path, e.verb), param)
        for e in endpoints(StripeStandIn())
        for param in sorted(e.known)
    ]
    refused = [
        f"{key} {param}: not at {CONTRACT['requests'][key]['pointer']}"
        for key, param in taken
        if param not in CONTRACT["requests"][key]["params"]
        and (key, param) not in NEWER_THAN_THE_SPEC
    ]
    assert refused == []
    # ...and every exception is still one: a stale entry would hide nothing, so it goes.
    assert NEWER_THAN_THE_SPEC <= set(taken)
