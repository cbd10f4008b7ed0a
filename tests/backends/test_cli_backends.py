"""`dtobs backends install`, `up`, `down`, `status` through the real CLI group."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from dtobs.cli import main


def test_commands_are_registered_on_main() -> None:
    assert {"backends", "up", "down", "status"} <= set(main.commands)
    assert "install" in main.commands["backends"].commands


def test_status_of_nothing_running_is_a_table_and_exit_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["status", "--state-dir", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].split() == ["service", "pid", "state", "url"]
    assert [line.split()[0] for line in lines[1:]] == ["prometheus", "alertmanager", "otelcol", "jaeger", "opensearch"]
    assert all(" stopped" in line for line in lines[1:])


def test_down_with_nothing_started(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["down", "--state-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert "stopped 0 service(s)" in result.output


def test_native_up_without_rendered_configs_fails_clearly(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["up", "--native", "--config-dir", str(tmp_path / "config" / "native"),
                                       "--state-dir", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert "config missing" in result.output and "make render" in result.output


def test_install_refuses_unknown_tool() -> None:
    result = CliRunner().invoke(main, ["backends", "install", "--only", "grafana"])
    assert result.exit_code == 2
    assert "grafana" in result.output
