"""Small tools for the end-to-end tests: bounded polls, loopback HTTP, a webhook receiver."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class PollTimeout(AssertionError):
    pass


def poll(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.1) -> tuple[T, float]:
    """Call probe until it returns something truthy; return it and the seconds it took.

    Bounded: raises PollTimeout naming `what` and the last error after `timeout` seconds.
    """
    start = time.monotonic()
    deadline = start + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = probe()
            if value:
                return value, time.monotonic() - start
        except Exception as exc:  # a backend still starting answers with errors
            last_error = exc
        if time.monotonic() >= deadline:
            raise PollTimeout(f"{what}: nothing after {timeout:.0f}s (last error: {last_error!r})")
        time.sleep(interval)


def http_json(url: str, data: Any = None, method: str | None = None, timeout: float = 5.0,
              headers: dict[str, str] | None = None) -> Any:
    assert url.startswith(("http://127.0.0.1", "http://localhost")), "loopback only"
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


@dataclass
class WebhookReceiver:
    """An Alertmanager webhook receiver on 127.0.0.1: keeps every notification it gets."""

    host: str = "127.0.0.1"
    port: int = 0
    notifications: list[dict] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def __enter__(self) -> "WebhookReceiver":
        received = self.notifications
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                length = int(self.headers.get("Content-Length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                payload["_path"] = self.path
                payload["_received_at"] = time.time()
                with lock:
                    received.append(payload)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def alerts(self, status: str, **labels: str) -> list[dict]:
        """Alerts (from every notification so far) with the given status and labels."""
        return [
            alert
            for note in list(self.notifications)
            for alert in note.get("alerts", [])
            if alert.get("status") == status and all(alert["labels"].get(k) == v for k, v in labels.items())
        ]
