"""Run the native stack: `up` starts each backend as a process on 127.0.0.1 and waits for its
health endpoint, `down` stops exactly what `up` started, `status` reports each one's health.

Everything lives in one state folder (default `.dtobs/run/` in the repo, git-ignored):

    <state>/<service>.pid    which process we started (see pidfile.py)
    <state>/<service>.log    its stdout and stderr
    <state>/prometheus-data/, alertmanager-data/, opensearch/{home,config,data,logs}/
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from dtobs.backends import cache
from dtobs.backends.pidfile import ProcessRecord, process_starttime
from dtobs.backends.progress import Echo, default_echo, is_tty, tail
from dtobs.backends.services import (HOST, SERVICES, Ports, Service, ServiceError, build_service,
                                     config_file)

DEFAULT_STATE_DIR = Path(".dtobs/run")
UP_TIMEOUT_SECONDS = 180.0  # OpenSearch is the slowest: ~10 s on an idle 2-core machine, far more under load


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    pid: int | None
    running: bool
    healthy: bool
    url: str
    log: str


def up(config_dir: Path, state_dir: Path = DEFAULT_STATE_DIR,
       commands: Mapping[str, Sequence[str]] | None = None,
       services: Iterable[str] = SERVICES, ports: Ports = Ports(),
       timeout: float = UP_TIMEOUT_SECONDS, echo: Echo = default_echo) -> list[ServiceStatus]:
    """Start the services and wait until all are healthy; on failure stop them all and raise.

    `commands` maps a service to its full command line, replacing the default one built from
    config_dir (see services.py for the expected config file names).
    """
    config_dir, state_dir = Path(config_dir).resolve(), Path(state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    commands = commands or {}
    unknown = (set(services) | set(commands)) - set(SERVICES)
    if unknown:
        raise ServiceError(f"unknown service(s) {', '.join(sorted(unknown))}; known: {', '.join(SERVICES)}")
    wanted = [s for s in SERVICES if s in set(services)]
    plan = [build_service(s, config_dir, state_dir, ports, commands.get(s)) for s in wanted]
    _refuse_if_running_or_busy(plan, state_dir, ports)
    started: list[ProcessRecord] = []
    try:
        for service in plan:
            if service.name == "opensearch":
                _prepare_opensearch(config_dir, state_dir, service.user)
            started.append(_start(service, state_dir))
            echo(f"started {service.name} (pid {started[-1].pid}, log {started[-1].log})")
        _wait_healthy(started, timeout, echo)
        if any(r.service == "opensearch" for r in started):
            _apply_log_store_setup(config_dir, ports, echo)
    except BaseException:
        for record in started:
            record.stop(timeout=15)
            (state_dir / f"{record.service}.pid").unlink(missing_ok=True)
        raise
    return status(state_dir)


def _apply_log_store_setup(config_dir: Path, ports: Ports, echo: Echo) -> None:
    """Index templates (and lifecycle policies where the plugin exists) before the first log lands."""
    from dtobs.stack_setup import apply_log_store_setup

    # config_dir is config/native; the log-store JSON files live in config/opensearch.
    root = config_dir.parent if config_dir.name == "native" else config_dir
    if not (root / "opensearch").is_dir():
        echo(f"opensearch setup: no {root / 'opensearch'} (index templates not rendered); skipped")
        return
    for applied in apply_log_store_setup(f"http://{HOST}:{ports.opensearch}", str(root), backend="opensearch"):
        echo(f"opensearch setup: {applied.path} {applied.status}")


def start(service: str, config_dir: Path, state_dir: Path = DEFAULT_STATE_DIR,
          command: Sequence[str] | None = None, ports: Ports = Ports(),
          timeout: float = UP_TIMEOUT_SECONDS, echo: Echo = default_echo) -> ServiceStatus:
    """Start one service (e.g. again after `stop`, in a failure test) and wait until healthy."""
    commands = {service: command} if command is not None else None
    up(config_dir, state_dir, commands=commands, services=[service], ports=ports, timeout=timeout, echo=echo)
    return next(s for s in status(state_dir) if s.service == service)


def stop(service: str, state_dir: Path = DEFAULT_STATE_DIR, timeout: float = 30.0,
         echo: Echo = default_echo) -> bool:
    """Stop one service started by `up`/`start`; False if it was not running."""
    pid_file = Path(state_dir) / f"{service}.pid"
    record = ProcessRecord.read(pid_file)
    stopped = record is not None and record.stop(timeout)
    if stopped:
        echo(f"stopped {service} (pid {record.pid})")
    pid_file.unlink(missing_ok=True)
    return stopped


def down(state_dir: Path = DEFAULT_STATE_DIR, timeout: float = 30.0, echo: Echo = default_echo) -> list[str]:
    """Stop every service that has a pid file in state_dir and is still the process we started."""
    stopped = []
    for pid_file in sorted(Path(state_dir).glob("*.pid"), key=_stop_rank):
        record = ProcessRecord.read(pid_file)
        if record is None:
            echo(f"{pid_file}: unreadable pid file, removed")
        elif record.stop(timeout):
            echo(f"stopped {record.service} (pid {record.pid})")
            stopped.append(record.service)
        else:
            echo(f"{record.service}: pid {record.pid} was no longer running (or is another process now)")
        pid_file.unlink(missing_ok=True)
    return stopped


# The collector first, so it can flush to Jaeger and OpenSearch; Prometheus before Alertmanager.
STOP_ORDER = ("otelcol", "jaeger", "opensearch", "prometheus", "alertmanager")


def _stop_rank(pid_file: Path) -> tuple[int, str]:
    name = pid_file.stem
    return (STOP_ORDER.index(name) if name in STOP_ORDER else len(STOP_ORDER), name)


def status(state_dir: Path = DEFAULT_STATE_DIR) -> list[ServiceStatus]:
    result = []
    for service in SERVICES:
        record = ProcessRecord.read(Path(state_dir) / f"{service}.pid")
        if record is None:
            result.append(ServiceStatus(service, None, False, False, "", ""))
            continue
        running = record.is_running()
        result.append(ServiceStatus(service, record.pid, running, running and is_healthy(record.health_url),
                                    record.health_url, record.log))
    return result


def restart(service: str, config_dir: Path, state_dir: Path = DEFAULT_STATE_DIR,
            command: Sequence[str] | None = None, ports: Ports = Ports(),
            timeout: float = UP_TIMEOUT_SECONDS, echo: Echo = default_echo) -> ServiceStatus:
    """`stop` then `start` one service; its data folder in state_dir is kept."""
    stop(service, state_dir, echo=echo)
    return start(service, config_dir, state_dir, command, ports, timeout, echo)


def is_healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


# --- starting ------------------------------------------------------------------------------

def _refuse_if_running_or_busy(plan: list[Service], state_dir: Path, ports: Ports) -> None:
    for service in plan:
        record = ProcessRecord.read(state_dir / f"{service.name}.pid")
        if record and record.is_running():
            raise ServiceError(f"{service.name} is already running (pid {record.pid}); run `dtobs down` first")
        busy = [port for port in ports.of(service.name) if not port_free(port)]
        if busy:
            raise ServiceError(f"{service.name}: port(s) {', '.join(map(str, busy))} on {HOST} already in use "
                               "(another stack running? `dtobs status` / `dtobs down`)")


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Like the Go and Java servers themselves: a port in TIME_WAIT can be listened on again.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _start(service: Service, state_dir: Path) -> ProcessRecord:
    log_path = state_dir / f"{service.name}.log"
    user_args = {}
    if service.user:
        # Popen(user=) switches user in the child before exec, so the pid we record is the
        # service itself, not a runuser/su wrapper that would have to forward signals.
        entry = pwd.getpwnam(service.user)
        user_args = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    with open(log_path, "ab") as log:
        log.write(f"\n=== {time.strftime('%F %T')} {' '.join(service.argv)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            service.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **service.env}, cwd=service.cwd, start_new_session=True, **user_args,
        )
    starttime = process_starttime(proc.pid)
    if starttime is None:  # it died at once; its log says why
        raise ServiceError(f"{service.name} exited immediately:\n{tail(log_path)}")
    record = ProcessRecord(service.name, proc.pid, starttime, service.marker, service.argv,
                           service.health_url, str(log_path))
    record.write(state_dir / f"{service.name}.pid")
    return record


def _wait_healthy(records: list[ProcessRecord], timeout: float, echo: Echo) -> None:
    """Poll every health URL until all answer, showing one progress line; bounded by timeout."""
    started = time.monotonic()
    healthy: dict[str, float] = {}
    last_printed = 0.0
    tty = is_tty() and echo is default_echo
    while True:
        elapsed = time.monotonic() - started
        for record in records:
            if record.service in healthy:
                continue
            if not record.is_running():
                raise ServiceError(f"{record.service} exited while starting; last lines of {record.log}:\n"
                                   f"{tail(Path(record.log))}")
            if is_healthy(record.health_url, timeout=1.0):
                healthy[record.service] = elapsed
        line = "  ".join(f"{r.service} {'ok ' + format(healthy[r.service], '.0f') + 's' if r.service in healthy else '…'}"
                         for r in records)
        done = len(healthy) == len(records)
        if tty:
            sys.stderr.write(f"\r[{elapsed:5.0f}s/{timeout:.0f}s] {line}\033[K" + ("\n" if done else ""))
            sys.stderr.flush()
        elif done or elapsed - last_printed >= 5:
            echo(f"[{elapsed:5.0f}s/{timeout:.0f}s] {line}")
            last_printed = elapsed
        if done:
            return
        if elapsed > timeout:
            slow = [r for r in records if r.service not in healthy]
            details = "\n".join(f"--- {r.service}: {r.health_url}; last lines of {r.log}:\n{tail(Path(r.log), 15)}"
                                for r in slow)
            raise ServiceError(f"not healthy after {timeout:.0f}s: {', '.join(r.service for r in slow)}\n{details}")
        time.sleep(1)


# --- OpenSearch ----------------------------------------------------------------------------

def _prepare_opensearch(config_dir: Path, state_dir: Path, user: str | None) -> None:
    """Lay out <state>/opensearch/{home,config,data,logs}, owned by the OpenSearch user.

    home/ is a hard-linked copy of the cached distribution: the cache usually sits under
    /root (mode 700), which the dedicated user cannot enter. Hard links cost no space.
    """
    cached = cache.find_cached_binary("opensearch")
    if cached is None:
        raise ServiceError("opensearch is not installed; run `dtobs backends install --only opensearch`")
    cached_home = cached.parent.parent
    base = state_dir / "opensearch"
    home = base / "home"
    if home.exists():
        shutil.rmtree(home)
    base.mkdir(parents=True, exist_ok=True)
    shutil.copytree(cached_home, home, copy_function=_link_or_copy, symlinks=True)
    config = base / "config"
    if config.exists():
        shutil.rmtree(config)
    shutil.copytree(cached_home / "config", config)
    rendered = config_file("opensearch", config_dir)
    if rendered is not None:
        shutil.copy2(rendered, config / "opensearch.yml")
    _point_jvm_files_at(config / "jvm.options", base)
    for sub in ("data", "logs"):
        (base / sub).mkdir(exist_ok=True)
    if user:
        entry = pwd.getpwnam(user)
        os.chown(base, entry.pw_uid, entry.pw_gid)  # not recursive: home/ shares inodes with the cache
        for path in (config, base / "data", base / "logs"):
            _chown_tree(path, entry.pw_uid, entry.pw_gid)
        _check_reachable(home, user)


def _point_jvm_files_at(jvm_options: Path, base: Path) -> None:
    """jvm.options writes gc.log, crash and heap dumps relative to the cwd, which bin/opensearch
    sets to the (read-only, root-owned) home: send them to the user's logs/ and data/ instead."""
    text = jvm_options.read_text()
    text = text.replace("HeapDumpPath=data", f"HeapDumpPath={base / 'data'}")
    text = text.replace("=logs/", f"={base / 'logs'}/").replace(":logs/", f":{base / 'logs'}/")
    jvm_options.write_text(text)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system, or hard links not allowed
        shutil.copy2(src, dst)


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    if path.is_dir():
        for child in path.rglob("*"):
            os.chown(child, uid, gid, follow_symlinks=False)


def _check_reachable(home: Path, user: str) -> None:
    """Fail early, with the reason, if the user cannot reach the state folder."""
    probe = subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(home / "bin" / "opensearch")],
                           capture_output=True, timeout=30)
    if probe.returncode != 0:
        raise ServiceError(f"user {user} cannot reach {home}: a parent folder of the state dir is not "
                           "world-searchable (o+x); pass a state dir elsewhere (e.g. /var/tmp/dtobs-run)")
