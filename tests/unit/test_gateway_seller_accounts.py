"""A seller's payout set-up through the GraphQL API, over stand-in services (gateway_v1_world):
`currentUser.sellerAccount` (the caller's own only) and `startSellerOnboarding` with its
userErrors."""

from __future__ import annotations

from common.errors import Conflict, InvalidInput
from tests.unit.gateway_v1_world import CALLER, SELLER, Services, errors, gid, run, tid
from ticketing.payments.v1 import payments_pb2

ME = "{ currentUser { sellerAccount { status canReceivePayouts requirementsDue disabledReason } } }"
START = """mutation($input: StartSellerOnboardingInput!) {
  startSellerOnboarding(input: $input) {
    onboardingUrl
    sellerAccount { status canReceivePayouts requirementsDue disabledReason }
    userErrors { code field message }
  }
}"""


async def test_a_seller_who_never_started_is_not_onboarded():
    result = await run(Services(), ME)
    assert result.errors is None
    assert result.data["currentUser"]["sellerAccount"] == {
        "status": "NOT_ONBOARDED",
        "canReceivePayouts": False,
        "requirementsDue": [],
        "disabledReason": None,
    }


async def test_onboarding_answers_the_link_and_where_the_seller_stands():
    services = Services()
    result = await run(services, START, {"input": {"returnPath": "/payouts"}})
    assert result.errors is None
    assert result.data["startSellerOnboarding"] == {
        "onboardingUrl": "https://connect.stripe.test/setup/acct_1",
        "sellerAccount": {
            "status": "PENDING",
            "canReceivePayouts": False,
            "requirementsDue": ["external_account"],
            "disabledReason": "requirements.past_due",
        },
        "userErrors": [],
    }
    [asked] = services.asked("payments.StartSellerOnboarding")
    assert asked.return_path == "/payouts"
    assert (await run(services, ME)).data["currentUser"]["sellerAccount"]["status"] == "PENDING"


async def test_no_return_path_is_the_seller_page():
    services = Services()
    result = await run(services, START, {"input": {}})
    assert result.data["startSellerOnboarding"]["userErrors"] == []
    [asked] = services.asked("payments.StartSellerOnboarding")
    assert asked.return_path == ""


async def test_a_payable_seller_can_receive_payouts():
    services = Services()
    services.seller_account = payments_pb2.SellerAccount(
        user_id=CALLER, status=payments_pb2.SELLER_ACCOUNT_STATUS_PAYABLE, payouts_enabled=True
    )
    account = (await run(services, ME)).data["currentUser"]["sellerAccount"]
    assert (account["status"], account["canReceivePayouts"]) == ("PAYABLE", True)


async def test_a_bad_return_path_is_a_user_error_on_it():
    services = Services()
    services.fail["StartSellerOnboarding"] = InvalidInput(
        "returnPath must be a path of this site", field="returnPath"
    )
    result = await run(services, START, {"input": {"returnPath": "//evil.example"}})
    assert result.data["startSellerOnboarding"] == {
        "onboardingUrl": None,
        "sellerAccount": None,
        "userErrors": [
            {
                "code": "BAD_USER_INPUT",
                "field": ["input", "returnPath"],
                "message": "returnPath must be a path of this site",
            }
        ],
    }


async def test_an_unfinished_earlier_attempt_is_a_conflict():
    services = Services()
    services.fail["StartSellerOnboarding"] = Conflict("try again later")
    result = await run(services, START, {"input": {}})
    [error] = result.data["startSellerOnboarding"]["userErrors"]
    assert error["code"] == "CONFLICT"


async def test_payments_down_is_unavailable_at_top_level_and_nothing_else_is_lost():
    services = Services()
    services.down.add("payments")
    started = await run(services, START, {"input": {}})
    assert started.data == {"startSellerOnboarding": None}
    assert errors(started) == [(["startSellerOnboarding"], "UNAVAILABLE")]
    me = await run(services, "{ currentUser { id sellerAccount { status } } }")
    assert me.data["currentUser"]["sellerAccount"] is None
    assert me.data["currentUser"]["id"] == gid("User", CALLER)
    assert errors(me) == [(["currentUser", "sellerAccount"], "UNAVAILABLE")]


async def test_signed_out_onboarding_is_unauthenticated_and_payments_is_not_asked():
    services = Services()
    result = await run(services, START, {"input": {}}, signed_in=False)
    assert errors(result) == [(["startSellerOnboarding"], "UNAUTHENTICATED")]
    assert services.asked("payments.StartSellerOnboarding") == []


async def test_someone_elses_seller_account_is_null_without_an_error_or_a_call():
    services = Services()
    result = await run(
        services,
        "query($id: ID!) { ticket(id: $id) { seller { sellerAccount { status } } } }",
        {"id": gid("Ticket", tid(0))},
    )
    assert result.errors is None
    assert result.data["ticket"]["seller"] == {"sellerAccount": None}
    assert services.asked("payments.GetSellerAccount") == []
    assert SELLER != CALLER
