"""The example CI jobs parse and call the CLI with options that exist."""

from pathlib import Path

import yaml
from click.testing import CliRunner

from dtobs.cli import main

EXAMPLES = Path(__file__).parents[2] / "examples" / "ci"


def _run_lines(path: Path) -> list[str]:
    workflow = yaml.safe_load(path.read_text())
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]


class TestDeployGate:
    def test_gate_step_uses_real_options(self):
        gate = next(run for run in _run_lines(EXAMPLES / "deploy-gate.yml") if "dtobs gate" in run)
        help_text = CliRunner().invoke(main, ["gate", "--help"]).output
        for option in ("--prometheus", "--context"):
            assert option in gate and option in help_text

    def test_gate_runs_before_deploy(self):
        runs = _run_lines(EXAMPLES / "deploy-gate.yml")
        assert [i for i, r in enumerate(runs) if "dtobs gate" in r][0] < [i for i, r in enumerate(runs) if "deploy.sh" in r][0]


class TestRollbackOnPage:
    def test_watch_loop_is_bounded_and_queries_pages(self):
        (watch,) = _run_lines(EXAMPLES / "rollback-on-page.yml")[-1:]
        assert "deadline" in watch and "severity=page" in watch and "rollback.sh" in watch
