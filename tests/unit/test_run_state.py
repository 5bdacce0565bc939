"""How `ticketing users` and `ticketing events` take the running stack's settings from its run
directory (common/run_state.py): only what their environment leaves unset, only from a stack
that holds the directory's lock, never from a state file left by one that is gone."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from common import run_state
from common.run_state import RunState, RunStateError, with_running_stack

SETTINGS = {
    "TICKETING_NAMESPACE": "laptop",
    "MONGO_URL": "mongodb://127.0.0.1:27018/?replicaSet=secantus",
    "AMQP_URL": "amqp://guest:guest@127.0.0.1:25672/%2F",
    "REDIS_URL": "redis://127.0.0.1:6380/0",
    "GATEWAY_PORT": "8001",
}


def _write(run_dir: Path, *, ready: bool = True) -> None:
    state = RunState(pid=4242, ready=ready, settings=SETTINGS, children={}, restarts={})
    run_state.write(run_dir, state.to_json())


@contextlib.contextmanager
def running(run_dir: Path) -> Iterator[None]:
    """The run directory's lock, held as `ticketing run` holds it while it runs."""
    fd = os.open(run_dir / run_state.LOCK_FILE, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def test_unset_settings_come_from_the_running_stack(tmp_path):
    _write(tmp_path)
    with running(tmp_path):
        env = with_running_stack({"TICKETING_RUN_DIR": str(tmp_path), "LOG_LEVEL": "DEBUG"})
    assert env["TICKETING_NAMESPACE"] == "laptop"
    assert env["MONGO_URL"] == SETTINGS["MONGO_URL"]
    assert env["AMQP_URL"] == SETTINGS["AMQP_URL"]
    assert env["REDIS_URL"] == SETTINGS["REDIS_URL"]
    assert env["LOG_LEVEL"] == "DEBUG"
    assert "GATEWAY_PORT" not in env  # only what a command beside the stack needs


def test_what_the_environment_says_wins(tmp_path):
    _write(tmp_path)
    given = {"TICKETING_RUN_DIR": str(tmp_path), "TICKETING_NAMESPACE": "mine"}
    with running(tmp_path):
        env = with_running_stack(given)
    assert env["TICKETING_NAMESPACE"] == "mine"
    assert env["MONGO_URL"] == SETTINGS["MONGO_URL"]


def test_a_state_whose_stack_is_gone_is_refused(tmp_path):
    _write(tmp_path)  # no lock held: the stack was killed outright
    with pytest.raises(RunStateError, match=r"no longer runs \(pid 4242\)"):
        with_running_stack({"TICKETING_RUN_DIR": str(tmp_path)})


def test_a_command_given_every_setting_never_reads_the_state(tmp_path):
    _write(tmp_path)  # stale, but not needed
    given = {"TICKETING_RUN_DIR": str(tmp_path), **{k: "x" for k in run_state.SHARED_SETTINGS}}
    assert with_running_stack(given) == given


def test_a_stack_still_starting_is_named(tmp_path):
    _write(tmp_path, ready=False)
    with running(tmp_path), pytest.raises(RunStateError, match="still starting"):
        with_running_stack({"TICKETING_RUN_DIR": str(tmp_path)})


def test_no_stack_here_leaves_the_environment_as_it_is(tmp_path):
    given = {"TICKETING_RUN_DIR": str(tmp_path / "none")}
    assert with_running_stack(given) == given
