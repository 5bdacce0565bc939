"""The ticket-code key ring (svc_delivery/domain/keys.py) and its directory
(svc_delivery/adapters/signing_keys.py): the newest started key signs, older keys verify until
retired, and what a venue downloads is the ring, public halves only."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

import pytest

from common.errors import Conflict
from common.settings import ConfigError
from svc_delivery.adapters import signing_keys
from svc_delivery.domain import codes
from svc_delivery.domain.codes import CodeRejected, Rejection
from svc_delivery.domain.keys import CodeKey, KeyRing
from tests.support.ticket_codes import KEY_1, KEY_2, T0, issued_pass, later, ring_of


def test_the_newest_started_key_signs_and_a_key_published_ahead_waits_for_its_time() -> None:
    ring = ring_of(KEY_1.code_key(T0)).rotated(KEY_2.code_key(later(60)))
    assert ring.signing_key(later(59)).key_id == KEY_1.key_id
    assert ring.signing_key(later(60)).key_id == KEY_2.key_id
    # Published ahead, it already verifies: a scanner that synced early knows it.
    assert ring.verifying_key(KEY_2.key_id, later(1)).key_id == KEY_2.key_id


def test_after_a_rotation_old_codes_verify_until_their_key_is_retired() -> None:
    ring = ring_of(KEY_1.code_key(T0)).rotated(KEY_2.code_key(later(10)))
    assert ring.verifying_key(KEY_1.key_id, later(20)).key_id == KEY_1.key_id
    retired = ring.retired(KEY_1.key_id, later(30))
    assert retired.verifying_key(KEY_1.key_id, later(29)).key_id == KEY_1.key_id
    with pytest.raises(CodeRejected) as rejected:
        retired.verifying_key(KEY_1.key_id, later(30))
    assert rejected.value.reason is Rejection.KEY_RETIRED
    assert retired.signing_key(later(30)).key_id == KEY_2.key_id


@pytest.mark.parametrize("key_id", ["0x12abcd", "1234_678", "ABCDEF12", "abcdefg1", "abc"])
def test_a_key_id_is_eight_lower_case_hex_digits(key_id: str) -> None:
    with pytest.raises(ValueError):
        CodeKey(key_id, bytes(32), T0)


def test_an_unknown_key_id_is_refused_as_such() -> None:
    with pytest.raises(CodeRejected) as rejected:
        ring_of(KEY_1.code_key()).verifying_key(KEY_2.key_id, T0)
    assert rejected.value.reason is Rejection.UNKNOWN_KEY


def test_the_only_signing_key_cannot_be_retired_and_nothing_signs_before_the_first_key() -> None:
    ring = ring_of(KEY_1.code_key(T0))
    with pytest.raises(Conflict):
        ring.retired(KEY_1.key_id, later(1))
    with pytest.raises(Conflict):
        ring.signing_key(later(-1))
    with pytest.raises(Conflict):
        KeyRing().signing_key(T0)


@pytest.mark.parametrize("starts", [-1, 0])
def test_a_rotation_starts_after_the_newest_key(starts: int) -> None:
    with pytest.raises(Conflict):
        ring_of(KEY_1.code_key(T0)).rotated(KEY_2.code_key(later(starts)))


def test_a_key_id_cannot_be_in_the_ring_twice() -> None:
    with pytest.raises(Conflict):
        ring_of(KEY_1.code_key(T0)).rotated(KEY_1.code_key(later(1)))
    with pytest.raises(ValueError):
        ring_of(KEY_1.code_key(T0), KEY_1.code_key(later(1)))


def test_the_published_ring_is_a_jwk_set_and_reads_back_the_same() -> None:
    ring = ring_of(KEY_1.code_key(T0)).rotated(KEY_2.code_key(later(10)))
    ring = ring.retired(KEY_1.key_id, later(20))
    document = json.loads(json.dumps(ring.published()))
    assert [(k["kty"], k["crv"], k["alg"], k["kid"]) for k in document["keys"]] == [
        ("OKP", "Ed25519", "EdDSA", KEY_1.key_id),
        ("OKP", "Ed25519", "EdDSA", KEY_2.key_id),
    ]
    assert document["keys"][0]["retired_at"] == later(20).isoformat()
    assert document["keys"][1]["retired_at"] is None
    assert "d" not in document["keys"][0]  # no private half
    assert KeyRing.from_published(document) == ring


def test_a_published_key_of_another_kind_is_refused() -> None:
    document = ring_of(KEY_1.code_key()).published()
    document["keys"][0]["crv"] = "X25519"
    with pytest.raises(ValueError):
        KeyRing.from_published(document)


def test_a_key_id_is_the_start_of_the_keys_rfc_7638_thumbprint() -> None:
    public = KEY_1.code_key().public_key
    # RFC 8032 TEST 1's public key.
    assert public.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    x = base64.urlsafe_b64encode(public).rstrip(b"=").decode()
    member = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    assert KEY_1.key_id == hashlib.sha256(member.encode()).digest()[:4].hex() == "90facafe"


# ----- the key directory -----


def test_a_directory_generates_rotates_and_retires_and_its_codes_verify(tmp_path: Path) -> None:
    first = signing_keys.generate(tmp_path, T0)
    assert stat.S_IMODE((tmp_path / "private" / f"{first.key_id}.pem").stat().st_mode) == 0o600
    signer = signing_keys.load(tmp_path, later(1))
    pass_ = issued_pass()
    old_code = signer.sign(pass_.code(signer.signing_key_id(later(1))))

    second = signing_keys.generate(tmp_path, later(60))
    signer = signing_keys.load(tmp_path, later(61))
    assert signer.signing_key_id(later(61)) == second.key_id
    new_code = signer.sign(pass_.code(signer.signing_key_id(later(61))))
    assert codes.read(new_code).code.key_id == second.key_id

    def check(text: str, at_minute: int) -> codes.TicketCode:
        ring = signing_keys.read_ring(tmp_path)
        return ring.verify(text, signing_keys.check_signature, later(at_minute))

    # Both codes say the same: this pass, issue 1, this holder; each with its own key.
    assert check(old_code, 61) == pass_.code(first.key_id)
    assert check(new_code, 61) == pass_.code(second.key_id)
    signing_keys.retire(tmp_path, first.key_id, later(90))
    assert not (tmp_path / "private" / f"{first.key_id}.pem").exists()
    with pytest.raises(CodeRejected) as rejected:
        check(old_code, 91)
    assert rejected.value.reason is Rejection.KEY_RETIRED
    assert check(new_code, 91).key_id == second.key_id
    assert signing_keys.load(tmp_path, later(91)).signing_key_id(later(91)) == second.key_id


def test_a_directory_without_keys_or_with_a_stray_key_does_not_load(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="generate"):
        signing_keys.load(tmp_path, T0)
    key = signing_keys.generate(tmp_path, T0)
    private = tmp_path / "private" / f"{key.key_id}.pem"
    stray = tmp_path / "private" / "0badc0de.pem"
    stray.write_text(private.read_text())
    with pytest.raises(ConfigError, match="not the private half"):
        signing_keys.load(tmp_path, T0)
    stray.unlink()
    private.unlink()
    with pytest.raises(ConfigError, match="no private key"):
        signing_keys.load(tmp_path, T0)
