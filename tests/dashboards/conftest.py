"""Fixtures: the dashboards of tests/dashboards/fixtures/observability.yaml (OpenSearch, two SLOs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dtobs.model import build_model
from dtobs.spec.load import load_spec

FIXTURE_SPEC = Path(__file__).parent / "fixtures" / "observability.yaml"
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="session")
def model():
    return build_model(load_spec(FIXTURE_SPEC))


@pytest.fixture(scope="session")
def dashboards(model):
    from dtobs.dashboards import build_dashboards

    return build_dashboards(model)
