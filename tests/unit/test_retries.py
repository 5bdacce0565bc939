"""common/retries.py judges failures without importing the drivers; the list the edges use
(common/outages.py) is made from it, and the transient errors are the same as before."""

from __future__ import annotations

import pytest
import redis.exceptions
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    DuplicateKeyError,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from common.errors import Unavailable
from common.outages import OUTAGES
from common.retries import ConcurrentUpdate, is_outage, is_transient, outages, retry_transient


def test_the_edges_list_of_outages_holds_each_drivers_down_or_reconnecting_types() -> None:
    assert set(OUTAGES) == {
        ConnectionFailure,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
    }
    assert set(outages()) == set(OUTAGES)


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (ConcurrentUpdate("tickets/t1 changed meanwhile"), True),
        (AutoReconnect("connection dropped"), True),
        (OperationFailure("write conflict", code=112), True),
        (OperationFailure("no such transaction", code=251), True),
        (ServerSelectionTimeoutError("no server"), False),  # down: UNAVAILABLE, not a retry
        (DuplicateKeyError("E11000"), False),
        (ValueError("a bug"), False),
    ],
)
def test_what_is_worth_running_again(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


@pytest.mark.parametrize(
    ("exc", "outage"),
    [
        (ServerSelectionTimeoutError("no server"), True),
        (ConnectionFailure("refused"), True),
        (redis.exceptions.ConnectionError("refused"), True),
        (redis.exceptions.TimeoutError("timed out"), True),
        (ConcurrentUpdate("kept changing"), True),
        (Unavailable("not an exception of a driver"), False),
        (KeyError("a bug"), False),
    ],
)
def test_what_is_an_outage_not_a_bug(exc: BaseException, outage: bool) -> None:
    assert is_outage(exc) is outage


async def test_a_handler_runs_again_after_a_conflict_and_not_after_a_bug() -> None:
    calls = []

    @retry_transient(attempts=3)
    async def handler(fail_with: list[BaseException]) -> str:
        calls.append(1)
        if fail_with:
            raise fail_with.pop(0)
        return "done"

    assert await handler([ConcurrentUpdate("a"), AutoReconnect("b")]) == "done"
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(KeyError):
        await handler([KeyError("bug"), ConcurrentUpdate("never reached")])
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(ConcurrentUpdate):
        await handler([ConcurrentUpdate("1"), ConcurrentUpdate("2"), ConcurrentUpdate("3")])
    assert len(calls) == 3
