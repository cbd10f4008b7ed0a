"""Install or build each native backend at the version pinned in versions.yaml (`native:`).

    prometheus, alertmanager  Debian packages (promtool and amtool come with them)
    otelcol                   custom distribution built with the Collector Builder from
                              build/otelcol-builder.yaml (same components as the contrib image)
    jaeger                    Jaeger v2 (cmd/jaeger) built from the wrapper module build/jaeger/
    opensearch                integ-test zip from Maven Central (no security plugin, no bundled
                              JDK: it runs on the machine's Java 17)

Go builds run under `nice`, with -p=2 (the machines have 2 cores), GOTOOLCHAIN=local (no
toolchain download) and -buildvcs=false (builds happen outside any git checkout).
"""

from __future__ import annotations

import hashlib
import os
import re
import pwd
import shutil
import stat
import string
import subprocess
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from dtobs.backends import cache
from dtobs.backends.progress import Echo, Stages, default_echo, run_logged
from dtobs.versions import Versions, load_versions

TOOLS = ("prometheus", "chromium", "otelcol", "jaeger", "opensearch")
OTELCOL_MANIFEST = Path("build/otelcol-builder.yaml")
JAEGER_WRAPPER = Path("build/jaeger")
OPENSEARCH_USER = "dtobs-opensearch"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
OPENSEARCH_ARTIFACT = "org/opensearch/distribution/integ-test-zip/opensearch"
GO_FALLBACK = "/usr/local/go/bin/go"


class InstallError(RuntimeError):
    pass


@dataclass(frozen=True)
class Installed:
    tool: str
    version: str
    location: str
    built_now: bool
    build_seconds: float | None  # from the stamp: how long the (last) build took


# --- Debian packages -------------------------------------------------------------------

def alertmanager_binary() -> str | None:
    # Debian names it prometheus-alertmanager; upstream tarballs name it alertmanager.
    return shutil.which("alertmanager") or shutil.which("prometheus-alertmanager")


def _missing_prometheus_tools() -> list[str]:
    missing = [name for name in ("prometheus", "promtool", "amtool") if not shutil.which(name)]
    if not alertmanager_binary():
        missing.append("alertmanager")
    return missing


def _privileged(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return argv
    if shutil.which("sudo"):
        return ["sudo", "-n", *argv]  # -n: fail instead of hanging on a password prompt
    raise InstallError(f"`{' '.join(argv)}` needs root and sudo is not installed; run it as root")


def _upstream(deb_version: str) -> str:
    """'2.42.0+ds-5+deb12u1' -> '2.42.0': the release, without Debian's packaging suffixes."""
    return re.split(r"[+~-]", deb_version.split(":")[-1], maxsplit=1)[0]


def _deb_version(package: str, pinned: str, stages: Stages) -> str:
    """`package=version` to install: the pin, or Debian's same-release replacement of it."""
    try:
        policy = subprocess.run(["apt-cache", "policy", package], capture_output=True, text=True,
                                timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        policy = ""
    version = choose_deb_version(pinned, policy)
    if version != pinned:
        stages.stage(f"note: Debian now ships {package} {version} in place of the pinned {pinned} "
                     f"(same release {_upstream(pinned)}); installing it. Update versions.yaml.")
    return f"{package}={version}"


def choose_deb_version(pinned: str, apt_policy: str) -> str:
    """The pin while apt knows it; else the candidate if it is the same upstream release (a stable
    update replaced the pinned build and the archive keeps only the newest); else the pin, for apt
    to refuse by name."""
    match = re.search(r"Candidate:\s*(\S+)", apt_policy)
    candidate = match.group(1) if match else ""
    if pinned in apt_policy or candidate in ("", "(none)"):
        return pinned
    return candidate if _upstream(candidate) == _upstream(pinned) else pinned


def ensure_prometheus(versions: Versions, echo: Echo = default_echo) -> Installed:
    stages = Stages("prometheus", echo)
    missing = _missing_prometheus_tools()
    wanted = f"{versions.native['prometheus_deb']} / {versions.native['alertmanager_deb']}"
    if not missing:
        stages.stage(f"already installed: {shutil.which('prometheus')}, {alertmanager_binary()}")
        return Installed("prometheus", wanted, shutil.which("prometheus") or "", False, None)
    if not shutil.which("apt-get"):
        raise InstallError(f"missing {', '.join(missing)} and there is no apt-get to install them")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    logs = cache.cache_root() / "logs"
    run_logged(_privileged(["apt-get", "update"]), logs / "apt-get-update.log", stages,
               "apt-get update", env=env, timeout=600)
    packages = [
        _deb_version("prometheus", versions.native["prometheus_deb"], stages),
        _deb_version("prometheus-alertmanager", versions.native["alertmanager_deb"], stages),
    ]
    run_logged(_privileged(["apt-get", "install", "-y", "--no-install-recommends", *packages]),
               logs / "apt-get-install.log", stages, f"apt-get install {' '.join(packages)}",
               env=env, timeout=1200)
    still_missing = _missing_prometheus_tools()
    if still_missing:
        raise InstallError(f"apt-get install finished but {', '.join(still_missing)} are still missing")
    if Path("/run/systemd/system").is_dir():  # Debian starts the packaged services under systemd
        stages.stage("note: systemd may run the packaged prometheus/alertmanager on 9090/9093; "
                     "stop them before `dtobs up --native`")
    stages.stage(f"installed in {stages.elapsed:.0f}s")
    return Installed("prometheus", wanted, shutil.which("prometheus") or "", True, round(stages.elapsed, 1))


def ensure_chromium(echo: Echo = default_echo) -> Installed:
    """Headless Chromium for `dtobs report` (HTML → PNG) and the report's rendering test.

    Not version-pinned: Debian replaces its Chromium in place with every security update, so a pin
    would break the install within weeks; the report only needs a working headless screenshot.
    """
    stages = Stages("chromium", echo)
    from dtobs.report._chromium import find_chromium

    if find_chromium():
        stages.stage(f"already installed: {find_chromium()}")
        return Installed("chromium", "debian", find_chromium() or "", False, None)
    if not shutil.which("apt-get"):
        raise InstallError("Chromium is missing and there is no apt-get to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    logs = cache.cache_root() / "logs"
    run_logged(_privileged(["apt-get", "update"]), logs / "apt-get-update.log", stages,
               "apt-get update", env=env, timeout=600)
    run_logged(_privileged(["apt-get", "install", "-y", "--no-install-recommends", "chromium"]),
               logs / "apt-get-install-chromium.log", stages, "apt-get install chromium", env=env, timeout=1200)
    if not find_chromium():
        raise InstallError("apt-get install chromium finished but no chromium binary is on PATH")
    stages.stage(f"installed in {stages.elapsed:.0f}s")
    return Installed("chromium", "debian", find_chromium() or "", True, round(stages.elapsed, 1))


# --- Go builds -------------------------------------------------------------------------

def find_go() -> str:
    go = shutil.which("go") or (GO_FALLBACK if os.access(GO_FALLBACK, os.X_OK) else None)
    if not go:
        raise InstallError(f"no Go toolchain on PATH or at {GO_FALLBACK}")
    return go


def go_env(go: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(go).parent}{os.pathsep}{env.get('PATH', '')}"
    env["GOTOOLCHAIN"] = "local"
    # Keep any flags the user set, add ours; -p=2 matches the 2-core machines.
    extra = [flag for flag in ("-buildvcs=false", "-p=2") if flag.split("=")[0] not in env.get("GOFLAGS", "")]
    env["GOFLAGS"] = " ".join([env.get("GOFLAGS", ""), *extra]).strip()
    return env


def go_version(go: str) -> str:
    return subprocess.run([go, "version"], capture_output=True, text=True, timeout=60, check=True).stdout.strip()


def nice(argv: list[str]) -> list[str]:
    return ["nice", "-n", "10", *argv] if shutil.which("nice") else argv


def render_otelcol_manifest(template: str, versions: Versions, output_path: Path) -> str:
    """Fill the versions into build/otelcol-builder.yaml and point its output at output_path."""
    native = versions.native
    text = string.Template(template).substitute(
        otelcol=native["otelcol"],
        otelcol_stable=native["otelcol_stable"],
        otelcol_plain=native["otelcol"].lstrip("v"),
    )
    manifest = yaml.safe_load(text)
    manifest["dist"]["output_path"] = str(output_path)
    return yaml.safe_dump(manifest, sort_keys=False)


def ensure_otelcol(repo_root: Path, versions: Versions, echo: Echo = default_echo,
                   force: bool = False) -> Installed:
    stages = Stages("otelcol", echo)
    version = versions.native["otelcol"]
    builder = versions.native["otelcol_builder"]
    go = find_go()
    template = (repo_root / OTELCOL_MANIFEST).read_text()
    # The hash ignores the temp output path; it covers the components, versions and toolchain.
    inputs = cache.hash_inputs(render_otelcol_manifest(template, versions, Path("/out")), builder, go_version(go))
    target = cache.entry("otelcol", version)
    if target.is_current(inputs) and not force:
        return _already(stages, target)

    def build(tmp: Path) -> None:
        manifest = tmp / "otelcol-builder.yaml"
        manifest.write_text(render_otelcol_manifest(template, versions, tmp / "src"))
        stages.stage(f"building with go.opentelemetry.io/collector/cmd/builder@{builder} "
                     "(cold: ~10 min on 2 cores; later builds reuse the Go build cache)")
        run_logged(nice([go, "run", f"go.opentelemetry.io/collector/cmd/builder@{builder}", "--config", str(manifest)]),
                   _build_log("otelcol", version), stages, "ocb: generate, fetch modules, compile",
                   cwd=tmp, env=go_env(go))
        (tmp / "bin").mkdir()
        (tmp / "src" / "otelcol-dtobs").rename(tmp / "bin" / "otelcol-dtobs")
        shutil.rmtree(tmp / "src")  # generated sources: rebuilt from the manifest when needed
        _check_runs([str(tmp / "bin" / "otelcol-dtobs"), "--version"], stages)

    return _build(stages, target, inputs, build)


def ensure_jaeger(repo_root: Path, versions: Versions, echo: Echo = default_echo,
                  force: bool = False) -> Installed:
    stages = Stages("jaeger", echo)
    version = versions.native["jaeger_module"]
    wrapper = repo_root / JAEGER_WRAPPER
    go_mod = (wrapper / "go.mod").read_text()
    go_sum = (wrapper / "go.sum").read_text()
    pinned_line = f"github.com/jaegertracing/jaeger {version}"
    if pinned_line not in go_mod:
        raise InstallError(
            f"{wrapper / 'go.mod'} does not require {pinned_line} (versions.yaml native.jaeger_module); "
            f"in {wrapper} run: go get -tool github.com/jaegertracing/jaeger/cmd/jaeger@{version}"
        )
    go = find_go()
    # The module release (not the v2 tag) is what we built, so `jaeger version` reports that.
    ldflags = f"-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion={version}"
    inputs = cache.hash_inputs(go_mod, go_sum, go_version(go), ldflags)
    target = cache.entry("jaeger", version)
    if target.is_current(inputs) and not force:
        return _already(stages, target)

    def build(tmp: Path) -> None:
        src = tmp / "src"
        src.mkdir()
        shutil.copy2(wrapper / "go.mod", src / "go.mod")
        shutil.copy2(wrapper / "go.sum", src / "go.sum")
        stages.stage(f"building github.com/jaegertracing/jaeger/cmd/jaeger@{version} "
                     "(cold: ~10 min on 2 cores; no UI assets, the query UI is a placeholder page)")
        (tmp / "bin").mkdir()
        run_logged(nice([go, "build", "-trimpath", f"-ldflags={ldflags}", "-o", str(tmp / "bin" / "jaeger"),
                         "github.com/jaegertracing/jaeger/cmd/jaeger"]),
                   _build_log("jaeger", version), stages, "go build cmd/jaeger", cwd=src, env=go_env(go))
        shutil.rmtree(src)
        _check_runs([str(tmp / "bin" / "jaeger"), "version"], stages)

    return _build(stages, target, inputs, build)


# --- OpenSearch ------------------------------------------------------------------------

def opensearch_url(version: str) -> str:
    return f"{MAVEN_CENTRAL}/{OPENSEARCH_ARTIFACT}/{version}/opensearch-{version}.zip"


def ensure_opensearch_user() -> None:
    """OpenSearch refuses to run as root, so it runs as a dedicated system user."""
    try:
        pwd.getpwnam(OPENSEARCH_USER)
        return
    except KeyError:
        pass
    if os.geteuid() != 0:
        return  # not root: it will simply run as the current user
    subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                    "--shell", "/usr/sbin/nologin", OPENSEARCH_USER], check=True, timeout=60)


def ensure_opensearch(repo_root: Path, versions: Versions, echo: Echo = default_echo,
                      force: bool = False) -> Installed:
    stages = Stages("opensearch", echo)
    version = versions.native["opensearch"]
    url = opensearch_url(version)
    ensure_opensearch_user()
    target = cache.entry("opensearch", version)
    inputs = cache.hash_inputs(url)
    if target.is_current(inputs) and not force:
        return _already(stages, target)

    def build(tmp: Path) -> None:
        archive = tmp / f"opensearch-{version}.zip"
        stages.stage(f"downloading {url}")
        _download(url, archive, stages)
        expected_sha1 = _fetch_text(url + ".sha1").split()[0]
        actual_sha1 = hashlib.sha1(archive.read_bytes()).hexdigest()
        if actual_sha1 != expected_sha1:
            raise InstallError(f"{url}: sha1 {actual_sha1} != published {expected_sha1}")
        stages.stage("sha1 verified; unzipping")
        _unzip_keeping_modes(archive, tmp)
        (tmp / f"opensearch-{version}").rename(tmp / "home")
        archive.unlink()

    return _build(stages, target, inputs, build)


def _fetch_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read().decode()


def _download(url: str, dest: Path, stages: Stages) -> None:
    with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        done, next_report = 0, 10 * 2**20
        while chunk := response.read(2**20):
            out.write(chunk)
            done += len(chunk)
            if done >= next_report:
                stages.stage(f"downloaded {done >> 20} / {total >> 20} MiB")
                next_report += 10 * 2**20


def _unzip_keeping_modes(archive: Path, dest: Path) -> None:
    # zipfile drops Unix permissions; bin/opensearch must stay executable.
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, dest))
            mode = (info.external_attr >> 16) & 0o7777
            if mode and not stat.S_ISDIR(info.external_attr >> 16):
                path.chmod(mode)


# --- shared ----------------------------------------------------------------------------

def _build_log(tool: str, version: str) -> Path:
    """Outside the temp build folder, so the log of a failed build survives its cleanup."""
    log = cache.cache_root() / "logs" / f"{tool}-{version}.build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")  # one build per log
    return log


def _check_runs(argv: list[str], stages: Stages) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise InstallError(f"the fresh binary does not run: {' '.join(argv)}: {proc.stderr.strip()}")
    stages.stage(f"built: {(proc.stdout or proc.stderr).strip().splitlines()[0]}")


def _already(stages: Stages, target: cache.CacheEntry) -> Installed:
    stamp = target.stamp()
    took = f" (built in {stamp.build_seconds:.0f}s on {stamp.built_at})" if stamp else ""
    stages.stage(f"cached: {target.path}{took}")
    return Installed(stages.label, target.version, str(target.path), False, stamp.build_seconds if stamp else None)


def _build(stages: Stages, target: cache.CacheEntry, inputs: str, build) -> Installed:
    stamp = target.build(inputs, build)
    stages.stage(f"ready in {target.path} (build took {stamp.build_seconds:.0f}s)")
    return Installed(stages.label, target.version, str(target.path), True, stamp.build_seconds)


def ensure(tool: str, repo_root: Path, echo: Echo = default_echo, force: bool = False) -> Installed:
    versions = load_versions(repo_root)
    if tool == "prometheus":
        return ensure_prometheus(versions, echo)
    if tool == "chromium":
        return ensure_chromium(echo)
    if tool == "otelcol":
        return ensure_otelcol(repo_root, versions, echo, force)
    if tool == "jaeger":
        return ensure_jaeger(repo_root, versions, echo, force)
    if tool == "opensearch":
        return ensure_opensearch(repo_root, versions, echo, force)
    raise InstallError(f"unknown tool {tool!r}; one of {', '.join(TOOLS)}")


def ensure_all(repo_root: Path, only: str | None = None, echo: Echo = default_echo) -> list[Installed]:
    # Cheap ones first, so a failed slow build still leaves the others installed.
    order = ("prometheus", "chromium", "opensearch", "otelcol", "jaeger")
    return [ensure(tool, repo_root, echo) for tool in order if only in (None, tool)]
