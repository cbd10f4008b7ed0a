"""The native-backend cache: one folder per tool and version, outside the checkout.

    ${DTOBS_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/day-trade-observability}/
        otelcol-v0.139.0/   bin/otelcol-dtobs, build stamp
        jaeger-v1.75.0/     bin/jaeger, build stamp
        opensearch-2.18.0/  home/ (the unzipped distribution), build stamp

A build happens in a temporary sibling folder and is renamed into place only once it is
complete, so a half build (killed, failed, out of disk) never counts as cached. The stamp
records a hash of the build inputs (manifest, go.mod, ...): change them and it rebuilds.
A per-entry lock file keeps two engineers (or CI and a developer) on one machine from
building the same thing at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

CACHE_NAME = "day-trade-observability"
STAMP_FILE = ".dtobs-build.json"
LOCK_WAIT_SECONDS = 3600  # a cold collector build takes minutes; never wait forever

# Binary name -> (tool folder prefix, path inside the tool folder, versions.yaml key).
# otelcol-contrib is an alias so tools written for the contrib image find our distribution.
BINARIES: dict[str, tuple[str, str, str]] = {
    "otelcol-dtobs": ("otelcol", "bin/otelcol-dtobs", "otelcol"),
    "otelcol": ("otelcol", "bin/otelcol-dtobs", "otelcol"),
    "otelcol-contrib": ("otelcol", "bin/otelcol-dtobs", "otelcol"),
    "jaeger": ("jaeger", "bin/jaeger", "jaeger_module"),
    "opensearch": ("opensearch", "home/bin/opensearch", "opensearch"),
}


def cache_root() -> Path:
    explicit = os.environ.get("DTOBS_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / CACHE_NAME


def hash_inputs(*parts: str | bytes) -> str:
    """A stable hash of a build's inputs (manifest text, go.mod, toolchain version...)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))  # length prefix: ("ab","c") != ("a","bc")
        digest.update(data)
    return digest.hexdigest()


@dataclass(frozen=True)
class Stamp:
    tool: str
    version: str
    inputs_hash: str
    build_seconds: float
    built_at: str

    @classmethod
    def read(cls, folder: Path) -> "Stamp | None":
        try:
            data = json.loads((folder / STAMP_FILE).read_text())
            return cls(**{k: data[k] for k in cls.__dataclass_fields__})
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, folder: Path) -> None:
        (folder / STAMP_FILE).write_text(json.dumps(self.__dict__, indent=2) + "\n")


@dataclass(frozen=True)
class CacheEntry:
    """One tool at one version in the cache."""

    tool: str
    version: str
    root: Path

    @property
    def path(self) -> Path:
        return self.root / f"{self.tool}-{self.version}"

    def stamp(self) -> Stamp | None:
        return Stamp.read(self.path) if self.path.is_dir() else None

    def is_current(self, inputs_hash: str) -> bool:
        stamp = self.stamp()
        return stamp is not None and stamp.inputs_hash == inputs_hash

    @contextmanager
    def locked(self, timeout: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        lock_path = self.root / f".{self.tool}-{self.version}.lock"
        with open(lock_path, "w") as handle:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{lock_path} is held by another build for over {timeout:.0f}s")
                    time.sleep(1)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def build(self, inputs_hash: str, build_into: Callable[[Path], None]) -> Stamp:
        """Run build_into(tmp) unless the entry is current; publish tmp atomically.

        Returns the stamp of the cached entry (fresh or already there).
        """
        with self.locked():
            if self.is_current(inputs_hash):  # someone else finished it while we waited
                stamp = self.stamp()
                assert stamp is not None
                return stamp
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{self.tool}-{self.version}-", dir=self.root))
            started = time.monotonic()
            try:
                build_into(tmp)
                stamp = Stamp(
                    tool=self.tool,
                    version=self.version,
                    inputs_hash=inputs_hash,
                    build_seconds=round(time.monotonic() - started, 1),
                    built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                )
                stamp.write(tmp)  # the stamp goes in last: it is the "complete" marker
                self._publish(tmp)
                return stamp
            finally:
                shutil.rmtree(tmp, ignore_errors=True)  # no-op once published

    def _publish(self, tmp: Path) -> None:
        old = None
        if self.path.exists():  # a stale build: move it aside, then drop it
            old = self.path.with_name(f".old-{self.path.name}-{os.getpid()}")
            self.path.rename(old)
        tmp.rename(self.path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def entry(tool: str, version: str, root: Path | None = None) -> CacheEntry:
    return CacheEntry(tool=tool, version=version, root=root or cache_root())


def find_cached_binary(name: str, repo_root: Path | None = None) -> Path | None:
    """The cached binary `name` at the version pinned in versions.yaml, if it is built.

    Without a versions.yaml (found from repo_root, the cwd or this source tree) it takes the
    most recently built version instead.
    """
    if name not in BINARIES:
        return None
    tool, relpath, version_key = BINARIES[name]
    pinned = _pinned_version(version_key, repo_root)
    root = cache_root()
    if pinned:
        candidates = [entry(tool, pinned, root).path]
    else:
        candidates = sorted(root.glob(f"{tool}-*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for folder in candidates:
        binary = folder / relpath
        if Stamp.read(folder) is not None and os.access(binary, os.X_OK):
            return binary
    return None


def _pinned_version(key: str, repo_root: Path | None) -> str | None:
    from dtobs.versions import VersionsError, find_repo_root, load_versions

    root = repo_root or find_repo_root() or find_repo_root(Path(__file__).parent)
    if root is None:
        return None
    try:
        return load_versions(root).native.get(key)
    except VersionsError:
        return None
