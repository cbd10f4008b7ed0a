"""Root conftest: makes the shared helper modules of tests/ (e.g. `_tools`) importable.

pytest's default "prepend" import mode puts this directory on sys.path when it loads this file;
the explicit insert below keeps that true under other import modes too.
"""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = str(Path(__file__).parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


def pytest_collection_modifyitems(config, items):
    """End-to-end tests run last: their synthetic trader keeps the library's process-wide runtime
    busy for the rest of the session, which the unit tests must not see (`make test` also runs
    them in a process of their own)."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)
