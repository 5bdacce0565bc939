"""The contract the Stripe stand-in's answers are checked against (tests/contract/
stripe_contract.json): it can fail, and each failure names the pointer into Stripe's OpenAPI
description it comes from; and tools/stripe_contract.py reads that description as it should."""

from __future__ import annotations

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
    written = contract(spec, "0" * 40, {"transfer": ["destination", "object"]})
    fields = written["objects"]["transfer"]["fields"]
    assert fields["destination"] == {
        "pointer": f"{TRANSFER}/destination",
        "types": ["string", "object"],
        "nullable": True,
        "required": False,
        "always_sent": True,
    }
    assert fields["object"]["enum"] == ["transfer"]
