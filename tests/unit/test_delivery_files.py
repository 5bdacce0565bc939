"""E-ticket files are told by their content (issue 22): a PDF by its header, a wallet pass by the
zip it is with pass.json and manifest.json; anything else, a file too large, a name claiming the
other type, or a zip that would expand past its bounds is refused naming the field "files"."""

from __future__ import annotations

import io
import zipfile

import pytest

from common.errors import InvalidInput
from svc_delivery.domain import files
from svc_delivery.domain.files import PDF, PKPASS, check_file

PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LIMIT = 5 * 1024 * 1024


def a_pass(**entries: bytes) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in (entries or {"pass.json": b"{}", "manifest.json": b"{}"}).items():
            z.writestr(name.replace("__", "."), content)
    return archive.getvalue()


def test_a_pdf_and_a_pass_are_told_by_their_content() -> None:
    assert check_file("ticket.pdf", PDF_BYTES, LIMIT).content_type == PDF
    checked = check_file("ticket.pkpass", a_pass(), LIMIT)
    assert (checked.content_type, checked.filename) == (PKPASS, "ticket.pkpass")


def test_a_name_without_the_extension_gets_the_contents() -> None:
    assert check_file("Row 12", PDF_BYTES, LIMIT).filename == "Row 12.pdf"
    assert check_file("../../etc/passwd", PDF_BYTES, LIMIT).filename == "passwd.pdf"


def test_a_pdf_renamed_pkpass_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_file("wallet.pkpass", PDF_BYTES, LIMIT)
    assert refused.value.field == "files"
    assert "PDF" in refused.value.message


def test_other_content_is_refused_whatever_its_name() -> None:
    for content in (b"GIF89a....", b"PK\x03\x04not really a zip", a_pass(**{"pass__json": b"{}"})):
        with pytest.raises(InvalidInput, match="neither a PDF nor a wallet pass"):
            check_file("ticket.pdf", content, LIMIT)


def test_a_pass_whose_json_is_not_an_object_is_refused() -> None:
    content = a_pass(**{"pass__json": b"[1]", "manifest__json": b"{}"})
    with pytest.raises(InvalidInput, match="neither"):
        check_file("t.pkpass", content, LIMIT)


def test_a_file_over_the_limit_and_an_empty_one_are_refused() -> None:
    with pytest.raises(InvalidInput, match="larger than 1024 bytes"):
        check_file("big.pdf", PDF_BYTES + b" " * 1024, 1024)
    with pytest.raises(InvalidInput, match="empty"):
        check_file("empty.pdf", b"", LIMIT)


def test_a_zip_bomb_entry_is_refused_before_it_is_expanded() -> None:
    """50 MiB of zeros compress to about 50 KiB: the declared size is over the bound."""
    bomb = a_pass(
        **{"pass__json": b"{}", "manifest__json": b"{}", "strip__png": bytes(50 * 1024 * 1024)}
    )
    assert len(bomb) < 200 * 1024
    with pytest.raises(InvalidInput, match="expands beyond"):
        check_file("bomb.pkpass", bomb, LIMIT)


def test_a_pass_json_larger_than_its_header_says_is_read_no_further_than_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(files, "MAX_PASS_JSON_BYTES", 64)
    content = a_pass(**{"pass__json": b'{"a": "' + b"x" * 200 + b'"}', "manifest__json": b"{}"})
    with pytest.raises(InvalidInput, match=r"pass\.json is too large"):
        check_file("big.pkpass", content, LIMIT)


def test_too_many_entries_are_refused() -> None:
    entries = {f"image{i}__png": b"x" for i in range(files.MAX_ZIP_ENTRIES)}
    content = a_pass(**{"pass__json": b"{}", "manifest__json": b"{}", **entries})
    with pytest.raises(InvalidInput, match="more than"):
        check_file("many.pkpass", content, LIMIT)
