"""versions.yaml: every image and tool version of the project, pinned in one place.

`images:` feeds docker-compose (the generator); `native:` feeds `dtobs backends install`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

VERSIONS_FILE = "versions.yaml"

# Keys `native:` must carry; a missing one is a clear error, not a KeyError deep in a build.
NATIVE_KEYS = (
    "prometheus_deb",
    "alertmanager_deb",
    "otelcol_builder",
    "otelcol",
    "otelcol_stable",
    "jaeger_module",
    "opensearch",
)


class VersionsError(ValueError):
    """versions.yaml is missing, unreadable or lacks a key."""


@dataclass(frozen=True)
class Versions:
    images: dict[str, str]
    native: dict[str, str]
    path: Path


def find_repo_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` (default: cwd) holding versions.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / VERSIONS_FILE).is_file():
            return folder
    return None


def load_versions(repo_root: str | Path) -> Versions:
    path = Path(repo_root) / VERSIONS_FILE
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise VersionsError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise VersionsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise VersionsError(f"{path}: expected a mapping with images: and native:")
    images = data.get("images") or {}
    native = data.get("native") or {}
    if not isinstance(images, dict) or not isinstance(native, dict):
        raise VersionsError(f"{path}: images: and native: must be mappings")
    missing = [key for key in NATIVE_KEYS if not native.get(key)]
    if missing:
        raise VersionsError(f"{path}: native: lacks {', '.join(missing)}")
    # YAML may read 2.18 as a float; versions are always strings.
    return Versions(
        images={str(k): str(v) for k, v in images.items()},
        native={str(k): str(v) for k, v in native.items()},
        path=path,
    )
