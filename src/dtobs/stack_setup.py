"""Apply the log store's index templates and lifecycle policies over HTTP (loopback only).

The native stack's supervisor calls `apply_log_store_setup("http://127.0.0.1:9200", "config")`
once OpenSearch answers; the compose stack's one-shot `setup` service runs the rendered
setup.sh with the same JSON files.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

TIMEOUT_S = 10.0


class SetupError(RuntimeError):
    """A request the log store refused, or a non-loopback URL."""


@dataclass(frozen=True)
class Applied:
    path: str  # e.g. /_plugins/_ism/policies/dtobs-logs
    status: str  # "created" | "updated" | "unchanged" | "skipped: <reason>"


def _loopback(base_url: str) -> None:
    host = urlsplit(base_url).hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise SetupError(f"{base_url}: the setup only talks to a loopback address")


def _request(method: str, url: str, body: dict | None, auth: tuple[str, str] | None, timeout: float):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}") if exc.headers.get_content_type() == "application/json" else {}
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SetupError(f"{method} {url}: {exc}") from None


def _files(folder: Path, prefix: str) -> list[tuple[str, dict]]:
    return [(f.name[len(prefix):-len(".json")], json.loads(f.read_text())) for f in sorted(folder.glob(f"{prefix}*.json"))]


def apply_log_store_setup(base_url: str, config_dir: str | Path, backend: str = "opensearch",
                          auth: tuple[str, str] | None = None, timeout: float = TIMEOUT_S) -> list[Applied]:
    """PUT the lifecycle policies, then the index templates, of `backend` from config_dir/<backend>/."""
    _loopback(base_url)
    base = base_url.rstrip("/")
    folder = Path(config_dir) / backend
    if not folder.is_dir():
        raise SetupError(f"{folder}: no such folder (run `dtobs render` first)")
    applied: list[Applied] = []
    if backend == "opensearch":
        # The native test distribution ships without plugins: no Index State Management there.
        code, plugins = _request("GET", base + "/_cat/plugins?format=json", None, auth, timeout)
        has_ism = code == 200 and any(p.get("component") == "opensearch-index-management" for p in plugins or [])
        for name, body in _files(folder, "ism-") if not has_ism else []:
            applied.append(Applied(f"/_plugins/_ism/policies/{name}", "skipped: ISM plugin not installed"))
        for name, body in _files(folder, "ism-") if has_ism else []:
            path = f"/_plugins/_ism/policies/{name}"
            code, current = _request("GET", base + path, None, auth, timeout)
            if code == 200:
                if current.get("policy", {}).get("states") == body["policy"]["states"] and \
                        current.get("policy", {}).get("ism_template") is not None and \
                        [t.get("index_patterns") for t in current["policy"]["ism_template"]] == \
                        [t["index_patterns"] for t in body["policy"]["ism_template"]]:
                    applied.append(Applied(path, "unchanged"))
                    continue
                url = f"{base}{path}?if_seq_no={current['_seq_no']}&if_primary_term={current['_primary_term']}"
                status = "updated"
            else:
                url, status = base + path, "created"
            code, resp = _request("PUT", url, body, auth, timeout)
            if code not in (200, 201):
                raise SetupError(f"PUT {path}: HTTP {code}: {json.dumps(resp)[:500]}")
            applied.append(Applied(path, status))
    elif backend == "elasticsearch":
        for name, body in _files(folder, "ilm-"):
            path = f"/_ilm/policy/{name}"
            code, resp = _request("PUT", base + path, body, auth, timeout)
            if code not in (200, 201):
                raise SetupError(f"PUT {path}: HTTP {code}: {json.dumps(resp)[:500]}")
            applied.append(Applied(path, "updated"))
    else:
        raise SetupError(f"unknown backend {backend!r}: expected opensearch or elasticsearch")
    for name, body in _files(folder, "index-template-"):
        path = f"/_index_template/{name}"
        code, resp = _request("PUT", base + path, body, auth, timeout)
        if code not in (200, 201):
            raise SetupError(f"PUT {path}: HTTP {code}: {json.dumps(resp)[:500]}")
        applied.append(Applied(path, "updated"))
    return applied
