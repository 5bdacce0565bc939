"""The limits `ticketing run` gives the gateway (common/devstack/dev_defaults.py): per-address
limits off on a developer's machine, unless the environment sets them; the banner says what is
in force."""

from __future__ import annotations

from common.devstack.dev_defaults import dev_defaults, limits_banner
from gateway.config import GatewaySettings
from svc_auth.config import AuthSettings


def test_per_address_limits_are_off_and_the_others_keep_production_values():
    settings = GatewaySettings.from_env(dev_defaults({}))
    production = GatewaySettings.from_env({})
    assert settings.signup_address_limit == 0 < production.signup_address_limit
    assert settings.signin_address_limit == 0 < production.signin_address_limit
    assert settings.graphql_address_limit == 0 < production.graphql_address_limit
    assert settings.subscription_connections_per_address == 0
    auth, auth_production = AuthSettings.from_env(dev_defaults({})), AuthSettings.from_env({})
    assert auth.signin_account_limit == auth_production.signin_account_limit > 0
    assert auth.signin_device_limit == auth_production.signin_device_limit > 0
    assert settings.graphql_user_limit == production.graphql_user_limit


def test_a_limit_the_environment_sets_is_kept_and_shown():
    env = dev_defaults({"SIGNUP_ADDRESS_LIMIT": "3"})
    assert GatewaySettings.from_env(env).signup_address_limit == 3
    banner = limits_banner(env)
    assert "sign-up per address 3/3600s" in banner
    assert "sign-in per address off" in banner
    assert "sign-in per account 10/900s" in banner
    assert "sign-in per device 10/900s" in banner
