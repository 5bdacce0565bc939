"""`make gen` in a copy of the checkout's build inputs (Makefile, proto/, the generator, the lock):
the stubs are built once, left alone while nothing they are made from changed, and a rebuild
swaps the new tree in whole, the old one importable until then. Two make commands in one
checkout (a `make test` beside a `make run`) once broke each other's imports: every `make gen`
deleted gen/ and generated it again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
STUB = Path("gen/ticketing/orders/v1/orders_pb2.py")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "proto", tmp_path / "proto")
    (tmp_path / "tools").mkdir()
    for name in ("__init__.py", "gen.py"):
        shutil.copy(ROOT / "tools" / name, tmp_path / "tools" / name)
    for name in ("Makefile", "requirements-dev.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def make_gen(checkout: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(
        ["make", "--no-print-directory", "gen", f"VENV={VENV}"],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def tree(checkout: Path) -> dict[str, tuple[int, int]]:
    """Every path of the stubs with its inode and modification time (make's own stamp beside
    them, gen/.stamp, aside)."""
    found = {}
    for directory, _, files in os.walk(checkout / "gen" / "ticketing"):
        for name in [".", *files]:
            path = Path(directory, name)
            info = path.stat()
            found[str(path.relative_to(checkout))] = (info.st_ino, info.st_mtime_ns)
    return found


def test_a_second_make_gen_leaves_gen_alone(checkout):
    make_gen(checkout)
    assert (checkout / STUB).exists()
    built = tree(checkout)

    make_gen(checkout)
    assert tree(checkout) == built

    # Make runs the generator again when a proto's time changes (a checkout, a touch), or the
    # lock's: it finds the same inputs and leaves the tree as it is.
    (checkout / "proto/ticketing/orders/v1/orders.proto").touch()
    (checkout / "requirements-dev.lock").touch()
    again = make_gen(checkout)
    assert "up to date" in again.stdout
    assert tree(checkout) == built


def test_a_changed_proto_is_swapped_in_whole_and_gen_never_disappears(checkout):
    make_gen(checkout)
    stub = checkout / STUB
    old = stub.read_text()
    proto = checkout / "proto/ticketing/orders/v1/orders.proto"
    proto.write_text(proto.read_text() + "\nmessage GenSwapProbe {\n  string note = 1;\n}\n")

    seen: list[str] = []  # "old", "new" or "missing", each time it changed
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                text = stub.read_text()
                state = "new" if "GenSwapProbe" in text else "old" if text == old else "other"
            except FileNotFoundError:
                state = "missing"
            if not seen or seen[-1] != state:
                seen.append(state)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        make_gen(checkout)
    finally:
        stop.set()
        watcher.join()

    assert seen == ["old", "new"]
    assert not [p.name for p in (checkout / "gen").iterdir() if p.name.startswith(".scratch")]
