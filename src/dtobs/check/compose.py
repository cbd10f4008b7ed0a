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
# Well-known default / demo passwords of the images (Grafana admin/admin, Elastic changeme, the
# OpenSearch security demo users): never in a credential pair, URL or env value of the compose file.
DEFAULT_PASSWORDS = ("admin", "changeme", "kibanaserver", "kibanaro", "logstash", "readall", "snapshotrestore",
                     "anomalyadmin", "password", "elastic", "opensearch")
_DEFAULT_PAIR = re.compile(r"(?i)(?<![\w$])([a-z0-9_.-]+):(" + "|".join(DEFAULT_PASSWORDS) + r")(?=$|[@\s'\"/])")
_ENV_FALLBACK = re.compile(r"\$\{([A-Za-z0-9_]+):?-")
# Admin credentials of the log stores: only the store itself and its one-shot setup may hold them.
ADMIN_SECRETS = ("ELASTIC_PASSWORD", "OPENSEARCH_ADMIN_PASSWORD")
STORE_SERVICES = ("elasticsearch", "opensearch")
OS_SECURITY_DIR = "/usr/share/opensearch/config/opensearch-security"
OS_DEMO_USERS = ("anomalyadmin", "kibanaro", "kibanaserver", "logstash", "readall", "snapshotrestore")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")


def seconds(duration: str) -> float:
    """A Grafana duration (500ms, 1s, 5m, 1h, 1d) in seconds."""
    m = _DURATION.match(str(duration).strip())
    if not m:
        raise ValueError(f"not a duration: {duration!r}")
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [t for v in value for t in _strings(v)]
    return [] if value is None else [str(value)]


def _env_dict(svc: dict) -> dict:
    env = svc.get("environment") or {}
    if isinstance(env, dict):
        return {str(k): "" if v is None else str(v) for k, v in env.items()}
    return dict(tuple((str(e).split("=", 1) + [""])[:2]) for e in env)


def _known_env_vars() -> set[str]:
    from dtobs.secrets import DERIVED, GENERATED

    return set(GENERATED) | set(DERIVED)


def _default_min_refresh() -> str:
    from dtobs.render.stack_grafana import min_refresh_interval

    return min_refresh_interval()


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


def lint(doc: dict, allow_public: bool = False, env_vars: set[str] | None = None,
         dashboard_refresh: str | None = None) -> list[str]:
    """Security and robustness rules every service must follow. env_vars: the variables .env
    provides (dtobs.secrets); dashboard_refresh: the fastest dashboard refresh (the HFT one)."""
    problems = []
    services = (doc or {}).get("services") or {}
    if not services:
        return ["no services"]
    env_vars = _known_env_vars() if env_vars is None else env_vars
    problems += _lint_credentials(services, env_vars)
    problems += _lint_grafana(services, dashboard_refresh or _default_min_refresh())
    problems += _lint_opensearch(services)
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


def _lint_credentials(services: dict, env_vars: set[str]) -> list[str]:
    problems = []
    for name, svc in services.items():
        where = f"services.{name}"
        one_shot = (svc.get("labels") or {}).get("dtobs.one-shot") == "true"
        texts = _strings({k: v for k, v in svc.items() if k != "image"})
        for text in texts:
            for m in _DEFAULT_PAIR.finditer(text):
                problems.append(f"{where}: well-known default password in {m.group(0)!r}")
            for m in _ENV_FALLBACK.finditer(text):
                if _SECRETISH_KEY.search(m.group(1)):
                    problems.append(f"{where}: ${{{m.group(1)}:-...}} falls back to a default secret; use ${{{m.group(1)}:?...}}")
        for key, value in _env_dict(svc).items():
            if _SECRETISH_KEY.search(key) and value.lower() in DEFAULT_PASSWORDS:
                problems.append(f"{where}.environment.{key}: well-known default password {value!r}")
            ref = _ENV_REF.match(value)
            var = value[2:].split(":", 1)[0] if ref else None
            if _SECRETISH_KEY.search(key) and var and var not in env_vars:
                problems.append(f"{where}.environment.{key}: ${{{var}}} is not generated into .env by dtobs.secrets")
        if name not in STORE_SERVICES and not one_shot:
            for var in ADMIN_SECRETS:
                if any(var in t for t in texts):
                    problems.append(f"{where}: uses the log store admin password {var}; use a dedicated least-privilege user")
    return problems


def _lint_grafana(services: dict, dashboard_refresh: str) -> list[str]:
    problems = []
    for name, svc in services.items():
        if not str(svc.get("image", "")).startswith("grafana/grafana"):
            continue
        where, env = f"services.{name}.environment", _env_dict(svc)
        if not env.get("GF_SECURITY_ADMIN_PASSWORD"):
            problems.append(f"{where}: no GF_SECURITY_ADMIN_PASSWORD: Grafana would start with admin/admin")
        floor = env.get("GF_DASHBOARDS_MIN_REFRESH_INTERVAL", "5s")  # Grafana's default
        try:
            too_slow = seconds(floor) > seconds(dashboard_refresh)
        except ValueError as exc:
            problems.append(f"{where}.GF_DASHBOARDS_MIN_REFRESH_INTERVAL: {exc}")
            continue
        if too_slow:
            problems.append(f"{where}.GF_DASHBOARDS_MIN_REFRESH_INTERVAL: {floor} is above the HFT dashboard refresh "
                            f"{dashboard_refresh}; Grafana would slow it down")
        if "opensearch" in services and "grafana-opensearch-datasource" not in env.get("GF_INSTALL_PLUGINS", ""):
            problems.append(f"{where}.GF_INSTALL_PLUGINS: the OpenSearch logs datasource plugin is not installed")
    return problems


def _lint_opensearch(services: dict) -> list[str]:
    problems = []
    for name, svc in services.items():
        one_shot = (svc.get("labels") or {}).get("dtobs.one-shot") == "true"
        if one_shot or not str(svc.get("image", "")).startswith("opensearchproject/opensearch:"):
            continue
        where, env = f"services.{name}", _env_dict(svc)
        if env.get("DISABLE_SECURITY_PLUGIN", "").lower() == "true" or env.get("plugins.security.disabled", "").lower() == "true":
            problems.append(f"{where}: the OpenSearch security plugin is disabled")
        if not _ENV_REF.match(env.get("OPENSEARCH_INITIAL_ADMIN_PASSWORD", "")):
            problems.append(f"{where}.environment.OPENSEARCH_INITIAL_ADMIN_PASSWORD: must come from .env")
        entry = " ".join(_strings(svc.get("entrypoint")))
        mounts = [str(v).split(":")[1] for v in svc.get("volumes") or [] if str(v).count(":") >= 1]
        if not ("internal_users.yml" in entry and OS_SECURITY_DIR in entry and any(m and m in entry for m in mounts)):
            problems.append(f"{where}: the demo internal users ({', '.join(OS_DEMO_USERS)}) with their well-known "
                            f"passwords would be installed; copy the rendered internal_users.yml into {OS_SECURITY_DIR}")
    return problems


def lint_opensearch_security(internal_users: dict, roles_mapping: dict, installer_hash: str) -> list[str]:
    """The rendered config/opensearch/security files: admin only (its hash the one the demo installer
    replaces with OPENSEARCH_INITIAL_ADMIN_PASSWORD's), no demo user, no demo catch-all mapping."""
    problems = []
    users = {k: v for k, v in (internal_users or {}).items() if k != "_meta"}
    for user in sorted(set(users) - {"admin"}):
        problems.append(f"internal_users.yml: user {user!r}: service users are created by the setup service "
                        "with passwords from .env, never committed")
    if (users.get("admin") or {}).get("hash") != installer_hash:
        problems.append("internal_users.yml: admin's hash is not the demo installer's placeholder, so "
                        "OPENSEARCH_INITIAL_ADMIN_PASSWORD would not be applied")
    for role, mapping in (roles_mapping or {}).items():
        users_mapped = set((mapping or {}).get("users") or []) if role != "_meta" else set()
        if "*" in users_mapped or users_mapped & set(OS_DEMO_USERS):
            problems.append(f"roles_mapping.yml: {role} is mapped to {sorted(users_mapped)} (demo mapping)")
    return problems


def _fastest_dashboard_refresh(root: Path) -> str | None:
    refreshes = []
    for path in sorted((root / "dashboards").glob("*.json")):
        try:
            refresh = json.loads(path.read_text()).get("refresh")
            refreshes.append((seconds(refresh), refresh))
        except (ValueError, OSError, AttributeError, TypeError):
            continue
    return min(refreshes)[1] if refreshes else None


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
    problems = lint(doc, _public_bind_allowed(root), dashboard_refresh=_fastest_dashboard_refresh(root))
    if "opensearch" in ((doc or {}).get("services") or {}):
        from dtobs.render.stack_logstore import OS_INSTALLER_ADMIN_HASH

        sec = root / "config/opensearch/security"
        try:
            problems += lint_opensearch_security(yaml.safe_load((sec / "internal_users.yml").read_text()),
                                                 yaml.safe_load((sec / "roles_mapping.yml").read_text()),
                                                 OS_INSTALLER_ADMIN_HASH)
        except (OSError, yaml.YAMLError) as exc:
            problems.append(f"config/opensearch/security: {exc}")
    results.append(CheckResult(f"compose security lint {COMPOSE_FILE}", not problems, "\n".join(problems)))
    return results


def _env_vars(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
