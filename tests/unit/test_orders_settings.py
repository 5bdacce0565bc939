"""The orders service's own expiry sweep: its settings and what they refuse."""

from __future__ import annotations

import pytest

from common.settings import ConfigError
from svc_orders.config import OrdersSettings


def test_the_sweep_runs_every_second_after_a_two_second_grace_by_default() -> None:
    settings = OrdersSettings.from_env({})
    assert (settings.order_expiry_sweep_seconds, settings.order_expiry_grace_seconds) == (1, 2)


@pytest.mark.parametrize(
    ("var", "raw"),
    [
        ("ORDER_EXPIRY_SWEEP_SECONDS", "0"),
        ("ORDER_EXPIRY_SWEEP_SECONDS", "3601"),
        ("ORDER_EXPIRY_GRACE_SECONDS", "-1"),
    ],
)
def test_a_sweep_setting_out_of_range_names_the_variable(var: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=var):
        OrdersSettings.from_env({var: raw})
