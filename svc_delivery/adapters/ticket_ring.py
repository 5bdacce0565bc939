"""The published key ring entry verifies codes with: the key directory's `ring.json`
(`signing_keys.py` lays it out; TICKET_KEYS_DIR names it), read again whenever the file was
replaced, so a rotation or a retirement reaches the doors without a restart."""

from __future__ import annotations

from pathlib import Path

from common.errors import Conflict
from common.settings import ConfigError
from svc_delivery.adapters.signing_keys import RING_FILE, read_ring
from svc_delivery.domain.keys import KeyRing


class DirectoryKeyRing:
    """`KeyRingSource` on a key directory (None: no keys configured)."""

    def __init__(self, directory: str | Path | None) -> None:
        self.directory = Path(directory) if directory else None
        self._read: tuple[tuple[int, int, int], KeyRing] | None = None

    def ring(self) -> KeyRing:
        if self.directory is None:
            raise Conflict("No ticket-code keys are configured (TICKET_KEYS_DIR)")
        try:
            found = (self.directory / RING_FILE).stat()
        except FileNotFoundError:
            raise Conflict("No ticket-code keys yet: generate them first") from None
        # The file is replaced whole (a new inode): its inode, size and time tell a new ring
        # even when two writes fall in one tick of the file system's clock.
        stamp = (found.st_ino, found.st_size, found.st_mtime_ns)
        if self._read is None or self._read[0] != stamp:
            try:
                self._read = (stamp, read_ring(self.directory))
            except ConfigError as refused:
                raise Conflict(f"The ticket-code keys cannot be read: {refused}") from None
        return self._read[1]
