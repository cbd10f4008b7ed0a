"""Bad stack settings: a clear error naming file/line/field, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dtobs.cli import main

FIXTURES = sorted((Path(__file__).parents[1] / "fixtures" / "invalid").glob("stack-*.yaml"))


def _expectation(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line must be '# expect: <error substring>'"
    return first[len("# expect: "):]


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_invalid_stack_spec_exits_2_and_writes_nothing(fixture: Path, tmp_path: Path) -> None:
    """Each invalid fixture fails with its expected message, exit code 2 and an empty output folder."""
    spec = tmp_path / "observability.yaml"
    spec.write_text(fixture.read_text())
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(spec), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert _expectation(fixture) in result.output
    assert not out.exists() or not any(out.iterdir())


def test_the_corpus_is_not_empty() -> None:
    """The invalid-stack corpus exists (a glob that finds nothing would pass vacuously)."""
    assert len(FIXTURES) >= 6
