"""The uvicorn configuration the gateway runs under (gateway/__main__.py): the shutdown grace is
never shortened, a fraction of a second included (uvicorn takes whole seconds, and 0 would cut
every request in flight at once), and a negative one is refused at start."""

from __future__ import annotations

import pytest

from common.settings import ConfigError
from gateway.__main__ import _server_config
from gateway.config import GatewaySettings


@pytest.mark.parametrize(("grace", "whole_seconds"), [("0.5", 1), ("10", 10), ("2.2", 3)])
def test_the_shutdown_grace_is_rounded_up_to_whole_seconds(grace: str, whole_seconds: int) -> None:
    settings = GatewaySettings.from_env({"SHUTDOWN_GRACE_SECONDS": grace})

    config = _server_config(settings, "gateway.__main__:worker_app", workers=2)

    assert config.timeout_graceful_shutdown == whole_seconds


def test_a_negative_shutdown_grace_is_refused_at_start() -> None:
    with pytest.raises(ConfigError, match="SHUTDOWN_GRACE_SECONDS must not be negative"):
        GatewaySettings.from_env({"SHUTDOWN_GRACE_SECONDS": "-1"})
