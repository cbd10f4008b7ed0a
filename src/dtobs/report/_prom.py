"""A small Prometheus HTTP API client (stdlib only): query_range with a bounded timeout."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass


class PrometheusError(RuntimeError):
    """Prometheus could not be reached or refused the query."""


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: tuple[tuple[float, float], ...]  # (unix seconds, value)


def query_range(base_url: str, expr: str, start: float, end: float, step: float,
                timeout: float = 30.0) -> list[Series]:
    params = urllib.parse.urlencode({"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}",
                                     "step": f"{step:g}"})
    url = f"{base_url.rstrip('/')}/api/v1/query_range?{params}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:500]
        raise PrometheusError(f"{url}: HTTP {exc.code}: {detail}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise PrometheusError(f"cannot reach Prometheus at {base_url}: {exc}") from None
    if body.get("status") != "success":
        raise PrometheusError(f"{expr}: {body.get('errorType')}: {body.get('error')}")
    out = []
    for result in body["data"]["result"]:
        points = tuple((float(t), float(v)) for t, v in result["values"])
        out.append(Series(dict(result["metric"]), points))
    return out
