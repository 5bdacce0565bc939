"""E-ticket files told by their content, never by their name: a PDF starts with `%PDF-`; a
wallet pass (PKPass) is a zip holding `pass.json` and `manifest.json`. A file of any other
content, one larger than the limit, or one whose name claims another type than its content (a
PDF named `.pkpass`) is refused. A zip is read within bounds (entries, declared and actual
uncompressed sizes), so a small upload cannot expand into gigabytes here."""

from __future__ import annotations

import io
import json
import posixpath
import re
import zipfile
from dataclasses import dataclass

from common.errors import InvalidInput

PDF = "application/pdf"
PKPASS = "application/vnd.apple.pkpass"
EXTENSIONS = {PDF: ".pdf", PKPASS: ".pkpass"}

# A pass holds a handful of images and JSON files; Apple's own are well under these.
MAX_ZIP_ENTRIES = 64
MAX_ZIP_UNCOMPRESSED = 20 * 1024 * 1024
MAX_PASS_JSON_BYTES = 1024 * 1024
MAX_FILENAME = 200
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    size: int


def check_file(filename: str, content: bytes, max_bytes: int) -> CheckedFile:
    """The file's safe name and its type read from its content; InvalidInput (field "files")
    naming what is wrong otherwise."""
    if not content:
        raise InvalidInput("A file is empty", field="files")
    if len(content) > max_bytes:
        raise InvalidInput(
            f"A file is larger than {max_bytes} bytes ({len(content)} bytes)", field="files"
        )
    content_type = sniff(content)
    if content_type is None:
        raise InvalidInput("A file is neither a PDF nor a wallet pass (PKPass)", field="files")
    name = safe_filename(filename, content_type)
    return CheckedFile(name, content_type, len(content))


def sniff(content: bytes) -> str | None:
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"PK\x03\x04") and _is_pass(content):
        return PKPASS
    return None


def safe_filename(filename: str, content_type: str) -> str:
    """The name without directories or control characters, at most MAX_FILENAME characters,
    with the content's extension (added when missing); InvalidInput when its extension names
    the other type."""
    base = _UNSAFE_NAME.sub("_", posixpath.basename(filename.replace("\\", "/"))).strip()
    stem, extension = posixpath.splitext(base)
    wanted = EXTENSIONS[content_type]
    if extension.lower() in EXTENSIONS.values() and extension.lower() != wanted:
        raise InvalidInput(
            f"A file named {extension} is a {'PDF' if content_type == PDF else 'PKPass'} by its "
            "content",
            field="files",
        )
    if extension.lower() != wanted:
        stem = base
    stem = stem[: MAX_FILENAME - len(wanted)] or "ticket"
    return stem + wanted


def _is_pass(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise InvalidInput(
                    f"A wallet pass holds more than {MAX_ZIP_ENTRIES} files", field="files"
                )
            if sum(e.file_size for e in entries) > MAX_ZIP_UNCOMPRESSED:
                raise InvalidInput("A wallet pass expands beyond its size limit", field="files")
            names = {e.filename for e in entries}
            if not {"pass.json", "manifest.json"} <= names:
                return False
            for name in ("pass.json", "manifest.json"):
                if not isinstance(_read_json(archive, name), dict):
                    return False
            return True
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError):
        return False


def _read_json(archive: zipfile.ZipFile, name: str) -> object:
    """The entry's JSON, read no further than MAX_PASS_JSON_BYTES whatever its header claims."""
    with archive.open(name) as entry:
        raw = entry.read(MAX_PASS_JSON_BYTES + 1)
    if len(raw) > MAX_PASS_JSON_BYTES:
        raise InvalidInput(f"A wallet pass's {name} is too large", field="files")
    try:
        return json.loads(raw)
    except ValueError:
        return None
