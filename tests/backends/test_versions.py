"""versions.yaml loading, and that the repo's own pins are consistent with each other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dtobs.versions import VersionsError, find_repo_root, load_versions

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_repo_versions_load_and_stay_consistent() -> None:
    versions = load_versions(REPO_ROOT)
    native = versions.native
    # One collector release everywhere: builder, components and the compose image.
    assert native["otelcol_builder"] == native["otelcol"]
    core_minor = native["otelcol"].split(".")[1]
    image_tag = versions.images["otel_collector"].rsplit(":", 1)[1]
    assert image_tag.split(".")[1] == core_minor, f"compose image {image_tag} vs native {native['otelcol']}"
    # The stable core modules (1.x) are released together with the 0.x ones: 0.N <-> 1.(N-94).
    assert int(native["otelcol_stable"].split(".")[1]) == int(core_minor) - 94
    # The Jaeger wrapper module builds exactly the pinned Jaeger release.
    go_mod = (REPO_ROOT / "build" / "jaeger" / "go.mod").read_text()
    assert re.search(rf"^\s*github\.com/jaegertracing/jaeger {re.escape(native['jaeger_module'])}\b", go_mod, re.M)


def test_numbers_stay_strings(tmp_path: Path) -> None:
    (tmp_path / "versions.yaml").write_text(
        "images: {a: 'x:1'}\nnative:\n  prometheus_deb: a\n  alertmanager_deb: b\n  otelcol_builder: v1\n"
        "  otelcol: v1\n  otelcol_stable: v1\n  jaeger_module: v1\n  opensearch: 2.18\n"
    )
    assert load_versions(tmp_path).native["opensearch"] == "2.18"


def test_missing_key_is_named(tmp_path: Path) -> None:
    (tmp_path / "versions.yaml").write_text("native:\n  otelcol: v1\n")
    with pytest.raises(VersionsError, match="lacks .*jaeger_module"):
        load_versions(tmp_path)


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(VersionsError, match="cannot read"):
        load_versions(tmp_path)
    (tmp_path / "versions.yaml").write_text("native: [unclosed")
    with pytest.raises(VersionsError, match="not valid YAML"):
        load_versions(tmp_path)


def test_find_repo_root_walks_up(tmp_path: Path) -> None:
    (tmp_path / "versions.yaml").write_text("{}")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_repo_root(deep) == tmp_path.resolve()
