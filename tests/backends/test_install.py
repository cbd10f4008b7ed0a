"""Installer logic that needs no network: manifest rendering, Go env, unzip, pins."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest
import yaml

from dtobs.backends import install
from dtobs.versions import load_versions

REPO_ROOT = Path(__file__).resolve().parents[2]

# The components the rendered configs and the compose contrib image rely on.
REQUIRED_COMPONENTS = {
    "receivers": {"otlpreceiver"},
    "processors": {"memorylimiterprocessor", "batchprocessor", "resourceprocessor", "attributesprocessor",
                   "redactionprocessor"},
    "connectors": {"spanmetricsconnector"},
    "exporters": {"otlpexporter", "otlphttpexporter", "prometheusexporter", "opensearchexporter",
                  "elasticsearchexporter", "debugexporter"},
    "extensions": {"healthcheckextension"},
    "providers": {"envprovider", "fileprovider", "yamlprovider"},
}


def _rendered_manifest(out: Path) -> dict:
    template = (REPO_ROOT / install.OTELCOL_MANIFEST).read_text()
    return yaml.safe_load(install.render_otelcol_manifest(template, load_versions(REPO_ROOT), out))


def test_manifest_renders_pinned_versions_and_output(tmp_path: Path) -> None:
    native = load_versions(REPO_ROOT).native
    manifest = _rendered_manifest(tmp_path / "out")
    assert manifest["dist"]["output_path"] == str(tmp_path / "out")
    assert manifest["dist"]["version"] == native["otelcol"].lstrip("v")
    for kind, wanted in REQUIRED_COMPONENTS.items():
        entries = [e["gomod"] for e in manifest[kind]]
        names = {gomod.split()[0].rsplit("/", 1)[1] for gomod in entries}
        assert wanted <= names, f"{kind}: missing {wanted - names}"
        expected = native["otelcol_stable"] if kind == "providers" else native["otelcol"]
        assert {gomod.split()[1] for gomod in entries} == {expected}, kind


def test_manifest_template_has_no_hardcoded_versions() -> None:
    template = (REPO_ROOT / install.OTELCOL_MANIFEST).read_text()
    gomods = [line for line in template.splitlines() if "gomod:" in line]
    assert gomods and all(line.rstrip().endswith(("${otelcol}", "${otelcol_stable}")) for line in gomods)


def test_go_env_pins_toolchain_and_keeps_user_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOFLAGS", "-mod=mod")
    monkeypatch.setenv("GOTOOLCHAIN", "auto")
    env = install.go_env("/usr/local/go/bin/go")
    assert env["GOTOOLCHAIN"] == "local"
    assert env["GOFLAGS"].split() == ["-mod=mod", "-buildvcs=false", "-p=2"]
    assert env["PATH"].startswith("/usr/local/go/bin" + os.pathsep)
    monkeypatch.setenv("GOFLAGS", "-p=1")
    assert install.go_env("/x/go")["GOFLAGS"].split() == ["-p=1", "-buildvcs=false"]


def test_unzip_keeps_executable_bits(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        script = zipfile.ZipInfo("opensearch-1/bin/opensearch")
        script.external_attr = (stat.S_IFREG | 0o755) << 16
        zf.writestr(script, "#!/bin/sh\n")
        conf = zipfile.ZipInfo("opensearch-1/config/opensearch.yml")
        conf.external_attr = (stat.S_IFREG | 0o640) << 16
        zf.writestr(conf, "a: 1\n")
    install._unzip_keeping_modes(archive, tmp_path / "out")
    assert stat.S_IMODE((tmp_path / "out/opensearch-1/bin/opensearch").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "out/opensearch-1/config/opensearch.yml").stat().st_mode) == 0o640


def test_opensearch_url_is_the_maven_central_integ_test_zip() -> None:
    assert install.opensearch_url("2.18.0") == (
        "https://repo1.maven.org/maven2/org/opensearch/distribution/integ-test-zip/opensearch/2.18.0/"
        "opensearch-2.18.0.zip"
    )


def test_jaeger_refuses_a_wrapper_on_another_version(tmp_path: Path) -> None:
    wrapper = tmp_path / "build" / "jaeger"
    wrapper.mkdir(parents=True)
    (wrapper / "go.mod").write_text("module x\n\nrequire github.com/jaegertracing/jaeger v1.1.0\n")
    (wrapper / "go.sum").write_text("")
    versions = load_versions(REPO_ROOT)
    with pytest.raises(install.InstallError, match="does not require github.com/jaegertracing/jaeger"):
        install.ensure_jaeger(tmp_path, versions, echo=lambda line: None)


def test_unknown_tool_is_refused() -> None:
    with pytest.raises(install.InstallError, match="unknown tool"):
        install.ensure("grafana", REPO_ROOT, echo=lambda line: None)


class TestDebianPin:
    def test_upstream_release_of_a_debian_version(self):
        from dtobs.backends.install import _upstream

        assert _upstream("2.42.0+ds-5+deb12u1") == "2.42.0"
        assert _upstream("0.25.0-1+b4") == "0.25.0"
        assert _upstream("1:2.42.0-1") == "2.42.0"

    def test_pin_kept_while_apt_knows_it(self):
        from dtobs.backends.install import choose_deb_version

        policy = "prometheus:\n  Installed: (none)\n  Candidate: 2.42.0+ds-5+deb12u2\n  Version table:\n     2.42.0+ds-5+deb12u2 500\n     2.42.0+ds-5+deb12u1 500\n"
        assert choose_deb_version("2.42.0+ds-5+deb12u1", policy) == "2.42.0+ds-5+deb12u1"

    def test_same_release_replacement_is_taken(self):
        from dtobs.backends.install import choose_deb_version

        policy = "prometheus:\n  Installed: (none)\n  Candidate: 2.42.0+ds-5+deb12u2\n  Version table:\n     2.42.0+ds-5+deb12u2 500\n"
        assert choose_deb_version("2.42.0+ds-5+deb12u1", policy) == "2.42.0+ds-5+deb12u2"

    def test_another_release_is_not_taken(self):
        from dtobs.backends.install import choose_deb_version

        policy = "prometheus:\n  Installed: (none)\n  Candidate: 2.53.0+ds-1\n  Version table:\n     2.53.0+ds-1 500\n"
        assert choose_deb_version("2.42.0+ds-5+deb12u1", policy) == "2.42.0+ds-5+deb12u1"
