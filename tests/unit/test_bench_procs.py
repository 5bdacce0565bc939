"""What the bench reads of its processes from /proc: a process tree, its memory and CPU time."""

from __future__ import annotations

import os
import subprocess
import sys

from bench import procs


def test_a_tree_holds_the_children_and_its_memory_and_cpu_are_read():
    code = "import time; print('ready', flush=True); time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        assert child.pid in procs.tree(os.getpid())
        assert procs.tree(child.pid) == [child.pid]
        assert procs.rss_kib(child.pid) > 1024  # a Python interpreter holds more than 1 MiB
        assert procs.cpu_seconds(os.getpid()) > 0
    finally:
        child.kill()
        child.wait()
    assert procs.rss_kib(child.pid) == 0 and procs.cpu_seconds(child.pid) == 0.0  # gone
