"""Pid records stop only the process they started (pid reuse guarded by start time + marker)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dtobs.backends.pidfile import ProcessRecord, process_starttime


@pytest.fixture
def sleeper():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    # Wait (bounded) until the exec is done: an empty cmdline reads as "ours" by design, which
    # would make the impostor checks below racy.
    cmdline = Path(f"/proc/{proc.pid}/cmdline")
    deadline = time.monotonic() + 10
    while b"time.sleep" not in cmdline.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.01)
    yield proc
    proc.kill()
    proc.wait(10)


def _record(proc: subprocess.Popen, **changes) -> ProcessRecord:
    record = ProcessRecord("svc", proc.pid, process_starttime(proc.pid), "time.sleep", list(proc.args),
                           "http://127.0.0.1:1/", "/dev/null")
    return dataclasses.replace(record, **changes)


def test_roundtrip(tmp_path: Path, sleeper) -> None:
    record = _record(sleeper)
    record.write(tmp_path / "svc.pid")
    assert ProcessRecord.read(tmp_path / "svc.pid") == record
    assert ProcessRecord.read(tmp_path / "missing.pid") is None
    (tmp_path / "bad.pid").write_text("{not json")
    assert ProcessRecord.read(tmp_path / "bad.pid") is None


def test_stop_terminates_our_process(sleeper) -> None:
    record = _record(sleeper)
    assert record.is_running()
    assert record.stop(timeout=10)
    assert sleeper.wait(5) is not None
    assert not record.is_running()
    assert not record.stop(timeout=1)  # a second stop finds nothing


def test_a_reused_pid_is_left_alone(sleeper) -> None:
    other_start = _record(sleeper, starttime=_record(sleeper).starttime - 1)
    other_cmd = _record(sleeper, marker="prometheus")
    for impostor in (other_start, other_cmd):
        assert not impostor.is_running()
        assert not impostor.stop(timeout=1)
    assert sleeper.poll() is None, "a process we did not start was signalled"
