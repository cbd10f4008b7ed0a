"""Find the validator binaries: on PATH, or in the native-backend cache built by `make backends`."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


# Debian installs some tools under another name.
_DEBIAN_NAMES = {"alertmanager": "prometheus-alertmanager"}


def find_tool(name: str) -> str | None:
    path = shutil.which(name) or (shutil.which(_DEBIAN_NAMES[name]) if name in _DEBIAN_NAMES else None)
    if path:
        return path
    try:
        from dtobs.backends.cache import find_cached_binary  # built by `make backends`
    except ImportError:
        return None
    found = find_cached_binary(name)
    return str(found) if found else None


@dataclass(frozen=True)
class ToolRun:
    returncode: int
    output: str


def run_tool(argv: list[str], cwd: str | Path | None = None, timeout: float = 120) -> ToolRun:
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return ToolRun(124, f"{argv[0]} timed out after {timeout:.0f}s")
    return ToolRun(proc.returncode, (proc.stdout + proc.stderr).strip())
