"""Progress lines for slow steps: `[  42s] otelcol: compiling (last: ...)`.

A cold collector build is silent for minutes; a heartbeat with the elapsed time and the
last log line shows it is alive and where it is.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

HEARTBEAT_SECONDS = 15.0

Echo = Callable[[str], None]


def default_echo(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Stages:
    """Prints stage lines with the seconds since the tool's work began."""

    def __init__(self, label: str, echo: Echo = default_echo) -> None:
        self.label = label
        self.echo = echo
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def stage(self, message: str) -> None:
        self.echo(f"[{self.elapsed:6.0f}s] {self.label}: {message}")


class CommandFailed(RuntimeError):
    def __init__(self, argv: Sequence[str], returncode: int, log_path: Path) -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.log_path = log_path
        super().__init__(
            f"{' '.join(self.argv)} exited {returncode}; last lines of {log_path}:\n{tail(log_path)}"
        )


def tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def run_logged(
    argv: Sequence[str],
    log_path: Path,
    stages: Stages,
    what: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 3600,
) -> None:
    """Run argv with output to log_path, printing a heartbeat; raise CommandFailed on error."""
    stages.stage(f"{what} (log: {log_path})")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env) if env else None,
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        started = time.monotonic()
        next_beat = started + HEARTBEAT_SECONDS
        while proc.poll() is None:
            now = time.monotonic()
            if now - started > timeout:
                proc.kill()
                proc.wait(timeout=30)
                raise CommandFailed(argv, -9, log_path)
            if now >= next_beat:
                last = tail(log_path, 1).strip()[:120]
                stages.stage(f"{what}: still running, {now - started:.0f}s" + (f" (last: {last})" if last else ""))
                next_beat = now + HEARTBEAT_SECONDS
            time.sleep(0.5)
    if proc.returncode != 0:
        raise CommandFailed(argv, proc.returncode, log_path)


def is_tty() -> bool:
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
