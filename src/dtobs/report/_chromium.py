"""Headless Chromium: screenshot an HTML file to PNG, or dump its DOM after scripts ran.

Run without network, GPU, sync or first-run work, in a throwaway profile, bounded by a timeout.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--disable-dev-shm-usage")


class ChromiumError(RuntimeError):
    """Chromium is missing or failed."""


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess:
    exe = find_chromium()
    if exe is None:
        raise ChromiumError("Chromium not found: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="dtobs-chromium-") as profile:
        argv = [exe, *FLAGS, f"--user-data-dir={profile}", *args]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=profile)
        except subprocess.TimeoutExpired:
            raise ChromiumError(f"Chromium timed out after {timeout:.0f}s") from None
    if proc.returncode != 0:
        raise ChromiumError(f"Chromium exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    return proc


def screenshot(html: Path, png: Path, width: int = 820, height: int = 1200, timeout: float = 90) -> Path:
    png = Path(png).resolve()
    _run([f"--screenshot={png}", f"--window-size={width},{height}", Path(html).resolve().as_uri()], timeout)
    if not png.is_file() or png.stat().st_size == 0:
        raise ChromiumError(f"Chromium wrote no screenshot to {png}")
    return png


def dump_dom(html: Path, timeout: float = 90) -> str:
    """The DOM as Chromium rendered it (what a browser shows), serialized as HTML."""
    return _run(["--dump-dom", Path(html).resolve().as_uri()], timeout).stdout
