"""Fees in the API (docs/design/money.md §3): the all-in price wherever a buyer sees prices
before ordering, an order's breakdown, a seller's proceeds; every amount is payments' answer,
asked once per page."""

from __future__ import annotations

from tests.unit.gateway_v1_world import Services, errors, gid, oid, run, tid


async def test_a_page_of_tickets_shows_all_in_prices_from_one_quote():
    services = Services(tickets=5)
    services.tickets_by_id[tid(3)].price = "30.05"
    result = await run(
        services,
        "{ tickets(first: 5) { nodes { price { amount } allInPrice { amount currencyCode } } } }",
        signed_in=False,  # a visitor sees the all-in price too
    )
    assert result.errors is None
    nodes = result.data["tickets"]["nodes"]
    # 20.00 + 10 % + 0.50 = 22.50; 30.05 + 3.005 + 0.50 = 33.555, rounded half up: 33.56.
    assert [n["allInPrice"] for n in nodes] == [
        {"amount": "22.50", "currencyCode": "EUR"},
        {"amount": "22.50", "currencyCode": "EUR"},
        {"amount": "22.50", "currencyCode": "EUR"},
        {"amount": "33.56", "currencyCode": "EUR"},
        {"amount": "22.50", "currencyCode": "EUR"},
    ]
    # One QuoteFees for the page, each price once; no token sent for it.
    [asked] = services.asked("payments.QuoteFees")
    assert sorted((line.price, line.currency_code, line.quantity) for line in asked.lines) == [
        ("20.00", "EUR", 1),
        ("30.05", "EUR", 1),
    ]


async def test_a_listing_shows_its_all_in_price():
    services = Services(tickets=1)
    result = await run(
        services, f'{{ listing(id: "{gid("Listing", tid(0))}") {{ allInPrice {{ amount }} }} }}'
    )
    assert result.data == {"listing": {"allInPrice": {"amount": "22.50"}}}


async def test_payments_down_leaves_the_all_in_price_null_and_the_price_standing():
    services = Services(tickets=2)
    services.down.add("payments")
    result = await run(
        services, "{ tickets(first: 2) { nodes { price { amount } allInPrice { amount } } } }"
    )
    assert result.data["tickets"]["nodes"] == [
        {"price": {"amount": "20.00"}, "allInPrice": None},
        {"price": {"amount": "20.00"}, "allInPrice": None},
    ]
    assert errors(result) == [
        (["tickets", "nodes", 0, "allInPrice"], "UNAVAILABLE"),
        (["tickets", "nodes", 1, "allInPrice"], "UNAVAILABLE"),
    ]


async def test_orders_show_their_fixed_charges_from_one_call():
    services = Services(tickets=3, orders=3)
    services.orders_list[1].quantity = 2
    result = await run(
        services,
        "{ orders(first: 3) { nodes { charges { subtotal { amount } buyerFees { amount } "
        "total { amount currencyCode } allInPrice { amount } } } } }",
    )
    assert result.errors is None
    charges = [n["charges"] for n in result.data["orders"]["nodes"]]
    assert charges[1] == {
        "subtotal": {"amount": "40.00"},
        "buyerFees": {"amount": "5.00"},
        "total": {"amount": "45.00", "currencyCode": "EUR"},
        "allInPrice": {"amount": "22.50"},
    }
    assert [c["total"]["amount"] for c in charges] == ["22.50", "45.00", "22.50"]
    [asked] = services.asked("payments.BatchGetOrderCharges")
    assert list(asked.order_ids) == [oid(0), oid(1), oid(2)]


async def test_fee_quote_tells_a_seller_what_they_receive():
    services = Services()
    result = await run(
        services,
        '{ feeQuote(price: {amount: "20.05", currencyCode: USD}, quantity: 2) { quantity '
        "price { amount } buyerFee { amount } allInPrice { amount } sellerCommission { amount } "
        "sellerProceeds { amount currencyCode } subtotal { amount } buyerFees { amount } "
        "total { amount } totalSellerProceeds { amount } } }",
        signed_in=False,
    )
    assert result.errors is None
    assert result.data["feeQuote"] == {
        "quantity": 2,
        "price": {"amount": "20.05"},
        "buyerFee": {"amount": "2.51"},
        "allInPrice": {"amount": "22.56"},
        "sellerCommission": {"amount": "1.00"},
        "sellerProceeds": {"amount": "19.05", "currencyCode": "USD"},
        "subtotal": {"amount": "40.10"},
        "buyerFees": {"amount": "5.02"},
        "total": {"amount": "45.12"},
        "totalSellerProceeds": {"amount": "38.10"},
    }


async def test_a_bad_fee_quote_argument_is_bad_user_input_naming_it():
    # payments refuses it (the one place the rules are); the gateway names the argument.
    services = Services()
    for args, field in (
        ('price: {amount: "20.001", currencyCode: USD}', "price.amount"),
        ('price: {amount: "20", currencyCode: USD}, quantity: 0', "quantity"),
    ):
        result = await run(services, f"{{ feeQuote({args}) {{ total {{ amount }} }} }}")
        assert result.data == {"feeQuote": None}
        [error] = result.errors
        assert (error.extensions["code"], error.extensions.get("field")) == (
            "BAD_USER_INPUT",
            field,
        ), args
