"""The cache: where it lives, atomic publication, stamps that force a rebuild when inputs change."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from dtobs.backends import cache


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DTOBS_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_cache_root_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DTOBS_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_root() == tmp_path / "xdg" / "day-trade-observability"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_root() == tmp_path / "home" / ".cache" / "day-trade-observability"
    monkeypatch.setenv("DTOBS_CACHE_DIR", str(tmp_path / "explicit"))
    assert cache.cache_root() == tmp_path / "explicit"


def test_entry_folder_is_tool_dash_version(root: Path) -> None:
    assert cache.entry("otelcol", "v0.139.0").path == root / "otelcol-v0.139.0"
    assert cache.entry("opensearch", "2.18.0").path == root / "opensearch-2.18.0"


def _write_binary(folder: Path, body: str = "v1") -> None:
    (folder / "bin").mkdir()
    (folder / "bin" / "tool").write_text(body)


def test_build_publishes_complete_folder_with_stamp(root: Path) -> None:
    entry = cache.entry("otelcol", "v1")
    stamp = entry.build("hash-a", _write_binary)
    assert (entry.path / "bin" / "tool").read_text() == "v1"
    on_disk = json.loads((entry.path / cache.STAMP_FILE).read_text())
    assert on_disk["inputs_hash"] == "hash-a"
    assert on_disk["build_seconds"] == stamp.build_seconds >= 0
    assert on_disk["tool"] == "otelcol" and on_disk["version"] == "v1"
    assert entry.is_current("hash-a")
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp-")], "temp folder left behind"


def test_failed_build_is_never_cached(root: Path) -> None:
    entry = cache.entry("jaeger", "v1")

    def half_build(tmp: Path) -> None:
        (tmp / "bin").mkdir()
        (tmp / "bin" / "jaeger").write_text("half")
        raise RuntimeError("compiler died")

    with pytest.raises(RuntimeError, match="compiler died"):
        entry.build("hash-a", half_build)
    assert not entry.path.exists()
    assert not entry.is_current("hash-a")
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp-")]


def test_folder_without_stamp_does_not_count(root: Path) -> None:
    entry = cache.entry("jaeger", "v1")
    entry.path.mkdir(parents=True)
    _write_binary(entry.path)  # e.g. copied by hand, or a build from before stamps
    assert entry.stamp() is None
    assert not entry.is_current("anything")


def test_changed_inputs_rebuild_and_replace(root: Path) -> None:
    entry = cache.entry("otelcol", "v1")
    calls = []

    def build(body: str):
        def into(tmp: Path) -> None:
            calls.append(body)
            _write_binary(tmp, body)
        return into

    entry.build("hash-a", build("first"))
    entry.build("hash-a", build("not run: same inputs"))
    assert calls == ["first"]
    entry.build("hash-b", build("second"))
    assert calls == ["first", "second"]
    assert (entry.path / "bin" / "tool").read_text() == "second"
    assert entry.is_current("hash-b") and not entry.is_current("hash-a")
    assert sorted(p.name for p in root.iterdir() if not p.name.endswith(".lock")) == ["otelcol-v1"]


def test_concurrent_builds_of_one_entry_build_once(root: Path) -> None:
    entry = cache.entry("otelcol", "v1")
    calls = []
    gate = threading.Event()

    def slow_build(tmp: Path) -> None:
        calls.append(1)
        gate.wait(5)
        _write_binary(tmp)

    # flock is per open file description, so two threads contend like two processes would.
    threads = [threading.Thread(target=entry.build, args=("h", slow_build)) for _ in range(2)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert calls == [1]
    assert entry.is_current("h")


def test_hash_inputs_is_stable_and_separates_parts() -> None:
    assert cache.hash_inputs("a", "bc") == cache.hash_inputs("a", "bc")
    assert cache.hash_inputs("a", "bc") != cache.hash_inputs("ab", "c")
    assert cache.hash_inputs("x") != cache.hash_inputs(b"y")


def test_find_cached_binary_takes_pinned_version_only_when_stamped(root: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "versions.yaml").write_text(
        "native:\n  prometheus_deb: a\n  alertmanager_deb: b\n  otelcol_builder: v9\n  otelcol: v9\n"
        "  otelcol_stable: v1\n  jaeger_module: v2\n  opensearch: '3'\n"
    )
    assert cache.find_cached_binary("otelcol-contrib", repo) is None

    def build(tmp: Path) -> None:
        (tmp / "bin").mkdir()
        binary = tmp / "bin" / "otelcol-dtobs"
        binary.write_text("#!/bin/sh\n")
        binary.chmod(0o755)

    cache.entry("otelcol", "v8").build("h", build)  # another version: not the pinned one
    assert cache.find_cached_binary("otelcol-dtobs", repo) is None
    cache.entry("otelcol", "v9").build("h", build)
    found = cache.find_cached_binary("otelcol-contrib", repo)
    assert found == root / "otelcol-v9" / "bin" / "otelcol-dtobs"
    assert os.access(found, os.X_OK)
    assert cache.find_cached_binary("no-such-tool", repo) is None
