"""`make gen`: the Python stubs of proto/ in gen/ticketing, rebuilt only when what they are made
from changed, and swapped in whole.

gen/ is on the editable install's path (pyproject.toml; the install records gen/ticketing by its
real path, so that must stay a directory, not a link), and every process of the checkout imports
`ticketing.*` from it. A new tree is compiled beside the one in use and exchanged with it in one
atomic step (renameat2's RENAME_EXCHANGE on Linux, renamex_np's RENAME_SWAP on macOS): a process
importing meanwhile (a `make test` while a `make run` starts) finds the old tree or the new one,
never none or half of one. The tree's fingerprint, kept in it, covers every proto file (its path
and bytes), the grpcio-tools version that compiles them and this program: the same stubs are
never built twice.

python -m tools.gen [--proto-dir proto] [--out gen]
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import hashlib
import importlib.metadata
import os
import shutil
import sys
from pathlib import Path

PACKAGE = "ticketing"
FINGERPRINT = ".fingerprint"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # Linux renameat2
_RENAME_SWAP = 2  # macOS renamex_np


def fingerprint(proto_dir: Path) -> str:
    digest = hashlib.sha256()
    digest.update(importlib.metadata.version("grpcio-tools").encode())
    digest.update(Path(__file__).read_bytes())
    for proto in sorted(proto_dir.rglob("*.proto")):
        digest.update(str(proto.relative_to(proto_dir)).encode() + b"\0")
        digest.update(proto.read_bytes() + b"\0")
    return digest.hexdigest()


def compile_protos(proto_dir: Path, out: Path) -> None:
    import grpc_tools
    from grpc_tools import protoc

    protos = [str(p) for p in sorted(proto_dir.rglob("*.proto"))]
    # The well-known types (google/protobuf/*.proto), as `python -m grpc_tools.protoc` adds them.
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    args = ["grpc_tools.protoc", f"-I{proto_dir}", f"-I{well_known}"]
    args += [f"--python_out={out}", f"--pyi_out={out}", f"--grpc_python_out={out}", *protos]
    if protoc.main(args) != 0:
        raise SystemExit(f"protoc failed on {proto_dir}")
    for package in [out / PACKAGE, *(out / PACKAGE).rglob("*")]:
        if package.is_dir():
            (package / "__init__.py").touch()


def exchange(a: Path, b: Path) -> bool:
    """Swaps two existing paths in one atomic step; False where this system or file system
    cannot."""
    libc = ctypes.CDLL(None, use_errno=True)
    first, second = os.fsencode(a), os.fsencode(b)
    if hasattr(libc, "renameat2"):
        done = libc.renameat2(_AT_FDCWD, first, _AT_FDCWD, second, _RENAME_EXCHANGE)
    elif hasattr(libc, "renamex_np"):
        done = libc.renamex_np(first, second, _RENAME_SWAP)
    else:
        return False
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def current_fingerprint(tree: Path) -> str | None:
    try:
        return (tree / FINGERPRINT).read_text().strip()
    except OSError:
        return None


def generate(proto_dir: Path, out: Path) -> bool:
    """Returns whether it built anything (False: the stubs in use are of these protos)."""
    wanted = fingerprint(proto_dir)
    tree = out / PACKAGE
    if current_fingerprint(tree) == wanted:
        return False
    scratch = out / f".scratch-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        compile_protos(proto_dir, scratch)
        (scratch / PACKAGE / FINGERPRINT).write_text(wanted + "\n")
        try:
            # Nothing there yet (a fresh clone): a plain rename is atomic too.
            (scratch / PACKAGE).rename(tree)
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            if not exchange(scratch / PACKAGE, tree):
                # No atomic exchange here: the old tree moves aside for an instant.
                tree.rename(scratch / "old")
                (scratch / PACKAGE).rename(tree)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # the old tree, now in the scratch place
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.gen", description=__doc__)
    parser.add_argument("--proto-dir", type=Path, default=Path("proto"))
    parser.add_argument("--out", type=Path, default=Path("gen"))
    args = parser.parse_args(argv)
    built = generate(args.proto_dir, args.out)
    print(f"gen: {args.out / PACKAGE} {'built' if built else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
