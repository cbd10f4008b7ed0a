"""Fixtures for the backend tests: real binaries, free loopback ports, rendered fixture configs."""

from __future__ import annotations

import string
from dataclasses import asdict, fields
from pathlib import Path
from typing import Callable

import pytest

from _tools import free_loopback_ports, require_tool
from dtobs.backends.services import Ports

REPO_ROOT = Path(__file__).resolve().parents[2]
NATIVE_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "native"


@pytest.fixture
def require_binary() -> Callable[[str], str]:
    """require_binary("otelcol-dtobs") -> its path: a skip locally, a failure under CI=true."""
    return require_tool


def free_ports() -> Ports:
    """A Ports with every port a free loopback port, so tests never collide with `make up`."""
    return Ports(**free_loopback_ports(f.name for f in fields(Ports)))


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
