"""The delivery service's settings: their defaults (issue 22's figures) and their refusals."""

from __future__ import annotations

import pytest

from common.config import ConfigError
from svc_delivery.config import DeliverySettings


def test_defaults() -> None:
    settings = DeliverySettings.from_env({})
    assert settings.delivery_port == 50058
    assert settings.delivery_max_file_bytes == 5 * 1024 * 1024
    assert settings.delivery_reminder_before_seconds == 24 * 3600
    assert settings.delivery_max_request_bytes > settings.delivery_max_file_bytes


@pytest.mark.parametrize(
    ("var", "raw"),
    [
        ("DELIVERY_MAX_FILE_BYTES", "0"),
        ("DELIVERY_MAX_REQUEST_BYTES", "1024"),
        ("DELIVERY_REMINDER_BEFORE_SECONDS", "-1"),
        ("DELIVERY_SWEEP_SECONDS", "0"),
    ],
)
def test_a_bad_value_is_refused_naming_it(var: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=var):
        DeliverySettings.from_env({var: raw})
