"""`ticketing keys`: a new key pair, and the key ids of PEM files, for a rollover's steps."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from common.cli import main
from common.clock import FrozenClock
from common.jwt import TokenIssuer, TokenVerifier, generate_key_pair
from tests.unit.fakes import FakeRevocations


def keys(capsys, *args: str) -> tuple[int, list[str], str]:
    with pytest.raises(SystemExit) as exited:
        main(["keys", *args])
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out.split(), err


def test_generate_writes_a_pair_that_signs_and_verifies(tmp_path: Path, capsys) -> None:
    code, [kid], _ = keys(capsys, "generate", str(tmp_path / "new"))

    assert code == 0
    private = (tmp_path / "new" / "private.pem").read_text()
    public = (tmp_path / "new" / "public.pem").read_text()
    assert stat.S_IMODE((tmp_path / "new" / "private.pem").stat().st_mode) & 0o077 == 0
    clock = FrozenClock()
    token, claims = TokenIssuer(private, 60, clock).issue("u", "u@example.com")
    verifier = TokenVerifier(public, FakeRevocations(), clock)
    assert verifier.decode(token) == claims and verifier.key_ids == {kid}


def test_generate_never_overwrites_a_key(tmp_path: Path, capsys) -> None:
    (tmp_path / "private.pem").write_text("the key in use")
    code, out, err = keys(capsys, "generate", str(tmp_path))
    assert code == 1 and out == [] and "exists" in err
    assert (tmp_path / "private.pem").read_text() == "the key in use"
    assert not (tmp_path / "public.pem").exists()


def test_ids_names_the_key_of_a_private_key_and_of_every_public_key(tmp_path: Path, capsys):
    old_private, old_public = generate_key_pair()
    new_private, new_public = generate_key_pair()
    files = {"old.pem": old_private, "new.pem": new_private, "both.pem": old_public + new_public}
    for name, pem in files.items():
        (tmp_path / name).write_text(pem)
    old_kid = TokenIssuer(old_private, 60).key_id
    new_kid = TokenIssuer(new_private, 60).key_id

    code, out, _ = keys(capsys, "ids", *(str(tmp_path / name) for name in files))

    assert code == 0
    assert out[::2] == [old_kid, new_kid, old_kid, new_kid]
    assert out[1::2] == [str(tmp_path / n) for n in ("old.pem", "new.pem", "both.pem", "both.pem")]


def test_ids_of_a_file_without_a_key_is_an_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty.pem").write_text("nothing here")
    code, out, err = keys(capsys, "ids", str(tmp_path / "empty.pem"))
    assert code == 1 and out == [] and "no PEM public key" in err
    code, out, err = keys(capsys, "ids", str(tmp_path / "missing.pem"))
    assert code == 1 and "missing.pem" in err
