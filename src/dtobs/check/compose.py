"""docker-compose.observability.yml: `docker compose config` where a Docker engine answers, else
the Compose Specification JSON schema (src/dtobs/data/compose-spec.json); plus our security lint."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import yaml

from dtobs.check import CheckResult

COMPOSE_FILE = "docker-compose.observability.yml"
_SECRETISH_KEY = re.compile(r"(?i)(passw|secret|token|_key$|basic_auth)")
_ENV_REF = re.compile(r"^\$\{[A-Z0-9_]+:\?[^}]+\}$")
_INLINE_CRED = re.compile(r"://[^/:@\s]+:([^@\s]+)@")
_WILDCARD = ("0.0.0.0", "::", "[::]")


def docker_answers() -> bool:
    docker = shutil.which("docker")
    if not docker:
        return False
    try:
        return subprocess.run([docker, "info"], capture_output=True, timeout=15).returncode == 0
    except (subprocess.TimeoutExpired, OSError):
        return False


def schema_errors(doc) -> list[str]:
    import jsonschema

    schema = json.loads(resources.files("dtobs").joinpath("data/compose-spec.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]


def _public_bind_allowed(root: Path) -> bool:
    spec = root / "observability.yaml"
    try:
        data = yaml.safe_load(spec.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return False
    return bool((data.get("stack") or {}).get("expose_publicly"))


def lint(doc: dict, allow_public: bool = False) -> list[str]:
    """Security and robustness rules every service must follow."""
    problems = []
    services = (doc or {}).get("services") or {}
    if not services:
        return ["no services"]
    for name, svc in services.items():
        where = f"services.{name}"
        one_shot = (svc.get("labels") or {}).get("dtobs.one-shot") == "true"
        image = str(svc.get("image", ""))
        last = image.rsplit("/", 1)[-1]
        if "@sha256:" not in image and (":" not in last or last.endswith(":latest")):
            problems.append(f"{where}.image: {image or '<none>'} is not pinned to a version")
        if one_shot:
            if svc.get("restart") != "no":
                problems.append(f"{where}: a one-shot service must have restart: \"no\"")
        elif not (svc.get("healthcheck") or {}).get("test"):
            problems.append(f"{where}: no healthcheck")
        if not svc.get("mem_limit") and not (((svc.get("deploy") or {}).get("resources") or {}).get("limits")):
            problems.append(f"{where}: no memory limit")
        for dep, cond in (svc.get("depends_on") or {}).items() if isinstance(svc.get("depends_on"), dict) else []:
            target_one_shot = ((services.get(dep) or {}).get("labels") or {}).get("dtobs.one-shot") == "true"
            wanted = "service_completed_successfully" if target_one_shot else "service_healthy"
            if (cond or {}).get("condition") != wanted:
                problems.append(f"{where}.depends_on.{dep}: condition must be {wanted}")
        if isinstance(svc.get("depends_on"), list):
            problems.append(f"{where}.depends_on: use the long form with condition: service_healthy")
        for port in svc.get("ports") or []:
            text = str(port if not isinstance(port, dict) else f"{port.get('host_ip', '')}:{port.get('published')}")
            host_ip = text.rsplit(":", 2)[0] if text.count(":") >= 2 else ""
            if not host_ip:
                problems.append(f"{where}.ports: {text} binds every interface (no host address)")
            elif host_ip in _WILDCARD and not allow_public:
                problems.append(f"{where}.ports: {text} binds every interface; set stack.expose_publicly to allow it")
        env = svc.get("environment") or {}
        pairs = env.items() if isinstance(env, dict) else [tuple((str(e).split("=", 1) + [""])[:2]) for e in env]
        for key, value in pairs:
            value = "" if value is None else str(value)
            if _SECRETISH_KEY.search(str(key)) and value and not _ENV_REF.match(value):
                problems.append(f"{where}.environment.{key}: literal secret; use ${{{key}:?...}} from .env")
        if str((env if isinstance(env, dict) else {}).get("GF_AUTH_ANONYMOUS_ENABLED", "false")).lower() == "true":
            problems.append(f"{where}.environment.GF_AUTH_ANONYMOUS_ENABLED: anonymous Grafana access is on")
        for arg in (svc.get("command") or []) if isinstance(svc.get("command"), list) else [svc.get("command") or ""]:
            m = _INLINE_CRED.search(str(arg))
            if m and not m.group(1).startswith("${"):
                problems.append(f"{where}.command: literal credentials in {arg!r}")
    return problems


def check(root: Path) -> list[CheckResult]:
    path = root / COMPOSE_FILE
    if not path.is_file():
        return [CheckResult(f"compose {COMPOSE_FILE}", False, f"{COMPOSE_FILE} is missing: run `make render`")]
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        return [CheckResult(f"compose {COMPOSE_FILE}", False, f"not valid YAML: {exc}")]
    results = []
    if docker_answers():
        env = {"PATH": "/usr/bin:/bin:/usr/local/bin"}
        env.update({k: "placeholder" for k in _env_vars(path.read_text())})
        proc = subprocess.run(["docker", "compose", "-f", COMPOSE_FILE, "config", "--quiet"], cwd=root,
                              capture_output=True, text=True, timeout=60, env=env)
        results.append(CheckResult(f"docker compose config {COMPOSE_FILE}", proc.returncode == 0,
                                   (proc.stdout + proc.stderr).strip()))
    else:
        errors = schema_errors(doc)
        results.append(CheckResult(f"compose-spec schema {COMPOSE_FILE} (no Docker engine: docker info fails)",
                                   not errors, "\n".join(errors)))
    problems = lint(doc, _public_bind_allowed(root))
    results.append(CheckResult(f"compose security lint {COMPOSE_FILE}", not problems, "\n".join(problems)))
    return results


def _env_vars(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
