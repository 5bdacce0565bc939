"""The ledger's journal on SecantusDB: an entry is posted in the unit of work's transaction, once,
and only if the transaction commits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from common.mongo import database_name, mongo_client
from svc_payments.adapters.repository import ensure_indexes
from svc_payments.adapters.unit_of_work import MongoPaymentsUnitOfWork
from svc_payments.domain import ledger

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 8, tzinfo=UTC)


@pytest.fixture
async def mongo(mongo_url):
    client = mongo_client(mongo_url)
    yield client
    await client.close()


@pytest.fixture
async def db(mongo, namespace):
    database = mongo[database_name(namespace, "payments")]
    await ensure_indexes(database)
    return database


def a_charge(source: str = "ch_1"):
    return ledger.charge(source, "order-1", "USD", "seller-1", 5500, 4750, NOW)


async def test_an_entry_is_posted_once_however_often_it_is_posted(mongo, db):
    for expected in (True, False):
        async with MongoPaymentsUnitOfWork(mongo, db, "payments") as uow:
            assert await uow.ledger.post(a_charge()) is expected
            await uow.commit()
    async with MongoPaymentsUnitOfWork(mongo, db, "payments") as uow:
        assert await uow.ledger.of_order("order-1") == [a_charge()]
        assert await uow.ledger.get("charge:ch_1") == a_charge()


async def test_an_entry_of_a_transaction_that_does_not_commit_is_not_there(mongo, db):
    async with MongoPaymentsUnitOfWork(mongo, db, "payments") as uow:
        await uow.ledger.post(a_charge("ch_lost"))
        # no commit: the transaction is aborted
    async with MongoPaymentsUnitOfWork(mongo, db, "payments") as uow:
        assert await uow.ledger.get("charge:ch_lost") is None
        assert await uow.ledger.of_order("order-1") == []
