"""`dtobs backends install`, `dtobs up|down|status`: the real backends, native or in Docker.

Registered on the main CLI group by `register(main)` (see cli.py).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import click

from dtobs.errors import EXIT_FAILED
from dtobs.backends.install import TOOLS

COMPOSE_FILES = ("docker-compose.observability.yml", "docker-compose.yml", "docker-compose.yaml", "compose.yaml", "compose.yml")


def _repo_root() -> Path:
    from dtobs.versions import find_repo_root

    root = find_repo_root()
    if root is None:
        raise click.ClickException("no versions.yaml here or above; run from the repository")
    return root


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _compose_file(root: Path) -> Path:
    for name in COMPOSE_FILES:
        if (root / name).is_file():
            return root / name
    raise click.ClickException(f"no compose file ({', '.join(COMPOSE_FILES)}) in {root}; run `make render`")


def _mode_file(state_dir: Path) -> Path:
    return state_dir / "mode"  # remembers how `up` ran the stack, so `down` stops the same one


@click.group()
def backends() -> None:
    """Install or build the native backends into the cache (~/.cache/day-trade-observability)."""


@backends.command("install")
@click.option("--only", type=click.Choice(list(TOOLS)),
              help="Install one tool only (prometheus also brings alertmanager, promtool, amtool).")
def install_cmd(only: str | None) -> None:
    """Install/build every backend at the versions pinned in versions.yaml (native:)."""
    from dtobs.backends.install import InstallError, ensure_all
    from dtobs.backends.progress import CommandFailed

    try:
        results = ensure_all(_repo_root(), only)
    except (InstallError, CommandFailed, TimeoutError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    click.echo(f"{'tool':11} {'version':32} {'build':>7}  location")
    for r in results:
        took = f"{r.build_seconds:.0f}s" if r.build_seconds is not None else "-"
        click.echo(f"{r.tool:11} {r.version:32} {took:>7}  {r.location}")


@click.command()
@click.option("--native", "mode", flag_value="native", help="Run the backends as native processes.")
@click.option("--docker", "mode", flag_value="docker", help="Run the Docker Compose stack.")
@click.option("--auto", "mode", flag_value="auto", default=True,
              help="Docker Compose when `docker info` answers, else native (default).")
@click.option("--config-dir", default="config/native", show_default=True, type=click.Path(file_okay=False),
              help="The rendered native configs; alertmanager.yml and opensearch/ are found in its parent.")
@click.option("--state-dir", default=".dtobs/run", show_default=True, type=click.Path(file_okay=False),
              help="Pid files, logs and data of the native processes.")
@click.option("--timeout", default=180.0, show_default=True, help="Seconds to wait for every health check.")
def up(mode: str, config_dir: str, state_dir: str, timeout: float) -> None:
    """Run the stack and wait until every service is healthy."""
    root = _repo_root()
    if mode == "auto":
        mode = "docker" if _docker_answers() else "native"
        click.echo(f"mode: {mode} ({'a Docker engine answers' if mode == 'docker' else 'no Docker engine'})")
    state = Path(state_dir)
    state.mkdir(parents=True, exist_ok=True)
    if mode == "docker":
        from dtobs.secrets import ensure_env_file

        compose = _compose_file(root)
        ensure_env_file(root / ".env")  # generated passwords, git-ignored, never overwritten
        code = subprocess.run(["docker", "compose", "-f", str(compose), "up", "-d", "--wait"]).returncode
        if code:
            sys.exit(code)
        _mode_file(state).write_text("docker\n")
        return
    from dtobs.backends.services import ServiceError
    from dtobs.backends.supervisor import up as native_up

    try:
        statuses = native_up(Path(config_dir), state, timeout=timeout)
    except ServiceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    _mode_file(state).write_text("native\n")
    _print_table(statuses)


@click.command()
@click.option("--state-dir", default=".dtobs/run", show_default=True, type=click.Path(file_okay=False))
def down(state_dir: str) -> None:
    """Stop exactly what `dtobs up` started."""
    state = Path(state_dir)
    mode_file = _mode_file(state)
    if mode_file.is_file() and mode_file.read_text().strip() == "docker":
        code = subprocess.run(["docker", "compose", "-f", str(_compose_file(_repo_root())), "down"]).returncode
        if code:
            sys.exit(code)
    else:
        from dtobs.backends.supervisor import down as native_down

        stopped = native_down(state)
        click.echo(f"stopped {len(stopped)} service(s)")
    mode_file.unlink(missing_ok=True)


@click.command()
@click.option("--state-dir", default=".dtobs/run", show_default=True, type=click.Path(file_okay=False))
def status(state_dir: str) -> None:
    """Health of every service started by `dtobs up` (exit 1 if any is down)."""
    state = Path(state_dir)
    mode_file = _mode_file(state)
    if mode_file.is_file() and mode_file.read_text().strip() == "docker":
        sys.exit(subprocess.run(["docker", "compose", "-f", str(_compose_file(_repo_root())), "ps"]).returncode)
    from dtobs.backends.supervisor import status as native_status

    statuses = native_status(state)
    _print_table(statuses)
    if not all(s.healthy for s in statuses):
        sys.exit(EXIT_FAILED)


def _print_table(statuses) -> None:
    click.echo(f"{'service':13} {'pid':>7}  {'state':9} url")
    for s in statuses:
        state = "healthy" if s.healthy else "unhealthy" if s.running else "stopped"
        click.echo(f"{s.service:13} {s.pid or '-':>7}  {state:9} {s.url}")


def register(main: click.Group) -> None:
    """Add `backends`, `up`, `down` and `status` to the main `dtobs` group."""
    for command in (backends, up, down, status):
        main.add_command(command)
