"""Pid files that know which process they mean.

A bare pid can be reused by an unrelated process after ours exits, so each record also keeps
the process's start time (field 22 of /proc/<pid>/stat, in clock ticks since boot) and a
marker string its command line must contain. `down` signals a pid only when both still match.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessRecord:
    service: str
    pid: int
    starttime: int
    marker: str
    argv: list[str]
    health_url: str
    log: str

    def write(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.rename(path)

    @classmethod
    def read(cls, path: Path) -> "ProcessRecord | None":
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def is_running(self) -> bool:
        """True only if the pid is alive, not a zombie, and still the process we started."""
        _reap(self.pid)  # if it is our exited child, collect it so no zombie is left behind
        stat = _proc_stat(self.pid)
        if stat is None or stat[0] == "Z" or stat[1] != self.starttime:
            return False
        cmdline = _cmdline(self.pid)
        # cmdline reads empty for a moment while a just-started process finishes its exec.
        return not cmdline or self.marker in cmdline

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM the process group, SIGKILL after timeout. Returns False if it was not running."""
        if not self.is_running():
            return False
        _signal_group(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _reap(self.pid)
            if not self.is_running():
                return True
            time.sleep(0.2)
        _signal_group(self.pid, signal.SIGKILL)
        for _ in range(50):  # bounded: 10 s for the kernel to tear it down
            _reap(self.pid)
            if not self.is_running():
                break
            time.sleep(0.2)
        return True


def process_starttime(pid: int) -> int | None:
    stat = _proc_stat(pid)
    return stat[1] if stat else None


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, starttime) of a pid, or None if there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
    fields = raw[raw.rindex(")") + 2:].split()
    return fields[0], int(fields[19])  # state is field 3, starttime field 22


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _signal_group(pid: int, sig: signal.Signals) -> None:
    # Services start in their own session (pgid == pid), so the group holds their children too.
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our child (tests run up and down in-process)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
