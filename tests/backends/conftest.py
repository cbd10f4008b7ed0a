"""Fixtures for the backend tests: real binaries, free loopback ports, rendered fixture configs."""

from __future__ import annotations

import os
import shutil
import socket
import string
from contextlib import ExitStack
from dataclasses import asdict, fields
from pathlib import Path
from typing import Callable

import pytest

from dtobs.backends.cache import find_cached_binary
from dtobs.backends.install import alertmanager_binary
from dtobs.backends.services import Ports

REPO_ROOT = Path(__file__).resolve().parents[2]
NATIVE_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "native"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def locate_binary(name: str) -> str | None:
    if name == "alertmanager":
        return alertmanager_binary()
    found = shutil.which(name) if name in ("prometheus", "promtool", "amtool") else None
    return found or (str(p) if (p := find_cached_binary(name, REPO_ROOT)) else None)


@pytest.fixture
def require_binary() -> Callable[[str], str]:
    """require_binary("otelcol-dtobs") -> its path.

    A missing binary skips the test locally (with how to get it) but FAILS it under CI=true:
    CI must have run `make backends`, so a skip there would hide a broken install.
    """

    def require(name: str) -> str:
        path = locate_binary(name)
        if path:
            return path
        message = f"{name} is not installed or built; run `make backends` (dtobs backends install)"
        if in_ci():
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)

    return require


def free_ports() -> Ports:
    """A Ports with every port a free loopback port, so tests never collide with `make up`."""
    with ExitStack() as stack:
        chosen = {}
        for f in fields(Ports):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))  # all held open at once: no duplicates
            chosen[f.name] = sock.getsockname()[1]
    return Ports(**chosen)


def render_native_fixtures(dest: Path, ports: Ports) -> Path:
    """Copy tests/fixtures/native/ to dest with the ${port} placeholders filled in."""
    for src in NATIVE_FIXTURES.rglob("*.yml"):
        out = dest / src.relative_to(NATIVE_FIXTURES)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(string.Template(src.read_text()).substitute(asdict(ports)))
    return dest


@pytest.fixture
def native_configs(tmp_path: Path) -> tuple[Path, Ports]:
    ports = free_ports()
    return render_native_fixtures(tmp_path / "config", ports), ports
