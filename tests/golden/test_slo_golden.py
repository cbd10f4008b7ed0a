"""Golden files: each tests/golden/slo/<case>/in.yaml renders exactly its out/ (regen.py rewrites them)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "slo"
_spec = importlib.util.spec_from_file_location("slo_golden_regen", HERE / "regen.py")
regen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regen)


@pytest.mark.parametrize("case", regen.cases(), ids=lambda p: p.name)
def test_golden(case: Path):
    fresh = regen.slo_files(case / "in.yaml")
    committed = {p.relative_to(case / "out").as_posix(): p.read_text(encoding="utf-8")
                 for p in (case / "out").rglob("*") if p.is_file()}
    assert sorted(fresh) == sorted(committed), "run tests/golden/slo/regen.py"
    for rel, text in fresh.items():
        assert text == committed[rel], f"{case.name}/{rel} differs: run tests/golden/slo/regen.py"


def test_every_input_format_has_a_case():
    assert {c.name for c in regen.cases()} >= {"dtobs_v1", "sloth", "openslo"}
