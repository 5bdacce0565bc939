"""The key ring entry verifies codes with (svc_delivery/adapters/ticket_ring.py): the key
directory TICKET_KEYS_DIR names, read again once a rotation or a retirement rewrote it, and a
clear refusal (FAILED_PRECONDITION), not INVALID_SIGNATURE at every door, without keys."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from common.errors import Conflict
from svc_delivery.adapters import signing_keys
from svc_delivery.adapters.ticket_ring import DirectoryKeyRing
from svc_delivery.config import DeliverySettings
from tests.support.ticket_codes import T0


def test_no_key_directory_is_the_default_and_refuses_scans() -> None:
    assert DeliverySettings.from_env({}).ticket_keys_dir is None
    assert DeliverySettings.from_env({"TICKET_KEYS_DIR": "/keys"}).ticket_keys_dir == "/keys"
    with pytest.raises(Conflict, match="TICKET_KEYS_DIR"):
        DirectoryKeyRing(None).ring()


def test_an_empty_or_unreadable_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Conflict, match="generate"):
        DirectoryKeyRing(tmp_path).ring()
    (tmp_path / signing_keys.RING_FILE).write_text("{not json")
    with pytest.raises(Conflict, match="cannot be read"):
        DirectoryKeyRing(tmp_path).ring()


def test_a_rotation_and_a_retirement_reach_the_ring_without_a_restart(tmp_path: Path) -> None:
    first = signing_keys.generate(tmp_path, T0)
    source = DirectoryKeyRing(str(tmp_path))
    assert [k.key_id for k in source.ring().keys] == [first.key_id]
    second = signing_keys.generate(tmp_path, T0 + timedelta(hours=1))
    assert [k.key_id for k in source.ring().keys] == [first.key_id, second.key_id]
    signing_keys.retire(tmp_path, first.key_id, T0 + timedelta(hours=2))
    assert source.ring().keys[0].retired_at == T0 + timedelta(hours=2)
