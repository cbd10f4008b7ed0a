"""Every broken spec in tests/fixtures/invalid/ (SLO engine cases: header `# expect: {f}:LINE: ...`)
makes `dtobs render` exit 2 with its message and write nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures" / "invalid"


def _cases() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*.yaml") if "{f}" in p.read_text(encoding="utf-8").splitlines()[0])


def _expected(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} has no '# expect:' header"
    return first[len("# expect: "):].replace("{f}", path.name)


def test_the_corpus_is_big_enough():
    assert len(_cases()) >= 30


@pytest.mark.parametrize("path", _cases(), ids=lambda p: p.stem)
def test_render_refuses(path: Path, tmp_path: Path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "dtobs.cli", "render", path.name, "-o", str(out)],
                          cwd=FIXTURES, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert _expected(path) in proc.stderr, proc.stderr
    assert not out.exists() or not any(out.iterdir()), "something was written"
