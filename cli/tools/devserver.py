"""A local Temporal dev server (`temporal server start-dev`) for local runs and tests.

Invariants:
- It binds to 127.0.0.1 only (gRPC and UI), on the port of PROJECTK_TEMPORAL_ADDRESS and
  PROJECTK_TEMPORAL_UI_PORT; a non-local address is refused.
- Its whole state (workflows, namespaces, search attributes) lives in `<data_dir>/temporal/dev.db`,
  so it survives `down`/`up` and machine restarts. Its output goes to `dev.log` beside it.
- The pid file `dev.pid` names the running server. A pid file whose process is gone, or is not a
  dev server for this DB, is stale and removed; nothing is ever signalled on a stale pid.
- `start` is idempotent (a running server is left alone) and returns only once the server answers
  with ProjectK's search attributes registered; on failure it stops what it started and reports
  the tail of the log. `stop` is idempotent and escalates from SIGTERM to SIGKILL.
- The server runs in its own session, so it outlives the CLI and a Ctrl-C in the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from temporalio.service import RPCError

from adapters.temporal import (
    SEARCH_ATTRIBUTES,
    SearchAttributeConflictError,
    TemporalUnavailableError,
    connect_address,
    ensure_search_attributes,
    find_temporal_cli,
    registered_search_attributes,
)
from projectk.settings import Settings

log = logging.getLogger(__name__)

BIND_IP = "127.0.0.1"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
KILL_TIMEOUT_S = 5.0
POLL_INTERVAL_S = 0.2
PROBE_TIMEOUT_S = 3.0
LOG_TAIL_LINES = 20
LOG_ROTATE_BYTES = 10 * 1024 * 1024


class DevServerError(RuntimeError):
    """A dev server problem the operator can act on; the message says what to do."""


@dataclass(frozen=True)
class DevServerConfig:
    """Where and how the dev server runs, derived from settings."""

    binary: Path
    port: int
    ui_port: int
    namespace: str
    state_dir: Path

    @classmethod
    def from_settings(cls, settings: Settings, binary: Path | None = None) -> DevServerConfig:
        """Build the config from settings, refusing a non-local PROJECTK_TEMPORAL_ADDRESS."""
        host, _, port_text = settings.temporal_address.rpartition(":")
        if host not in LOCAL_HOSTS or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise DevServerError(
                f"PROJECTK_TEMPORAL_ADDRESS={settings.temporal_address!r} is not a local "
                f"host:port; the dev server only runs on {BIND_IP} (e.g. 127.0.0.1:7233)"
            )
        if int(port_text) == settings.temporal_ui_port:
            raise DevServerError("PROJECTK_TEMPORAL_UI_PORT must differ from the gRPC port")
        return cls(
            binary=binary or find_temporal_cli(),
            port=int(port_text),
            ui_port=settings.temporal_ui_port,
            namespace=settings.temporal_namespace,
            state_dir=settings.data_dir.expanduser().resolve() / "temporal",
        )

    @property
    def address(self) -> str:
        """Return the gRPC address clients use."""
        return f"{BIND_IP}:{self.port}"

    @property
    def ui_url(self) -> str:
        """Return the Web UI's URL."""
        return f"http://{BIND_IP}:{self.ui_port}"

    @property
    def db_path(self) -> Path:
        """Return the SQLite file holding all server state."""
        return self.state_dir / "dev.db"

    @property
    def log_path(self) -> Path:
        """Return the server's log file."""
        return self.state_dir / "dev.log"

    @property
    def pid_path(self) -> Path:
        """Return the pid file of the running server."""
        return self.state_dir / "dev.pid"

    def command(self) -> list[str]:
        """Return the `temporal server start-dev` command line."""
        args = [str(self.binary), "server", "start-dev", "--ip", BIND_IP]
        args += ["--port", str(self.port), "--ui-port", str(self.ui_port)]
        args += ["--db-filename", str(self.db_path), "--namespace", self.namespace]
        for key in SEARCH_ATTRIBUTES:
            args += ["--search-attribute", f"{key.name}=Keyword"]
        return [*args, "--log-level", "warn"]


@dataclass(frozen=True)
class StartResult:
    """The outcome of `start`."""

    pid: int
    already_running: bool


@dataclass(frozen=True)
class DevServerStatus:
    """What `status` found."""

    running: bool
    pid: int | None
    answering: bool  # the gRPC endpoint answered a client
    address: str
    ui_url: str
    db_path: Path
    log_path: Path
    search_attributes: tuple[str, ...]  # ProjectK's attributes found registered
    missing_search_attributes: tuple[str, ...]  # ProjectK's attributes not (known to be) there


def running_pid(config: DevServerConfig) -> int | None:
    """Return the pid of this data dir's running dev server, removing a stale pid file."""
    try:
        pid = int(config.pid_path.read_text().strip())
    except (FileNotFoundError, NotADirectoryError):
        return None
    except ValueError:
        pid = 0
    if pid > 0 and _alive(pid) and _is_dev_server(pid, config):
        return pid
    log.info(
        "removing stale pid file %s (pid %s is not a running dev server)", config.pid_path, pid
    )
    config.pid_path.unlink(missing_ok=True)
    return None


async def start(config: DevServerConfig, *, timeout_s: float = STARTUP_TIMEOUT_S) -> StartResult:
    """Start the dev server detached unless already running, and wait until it answers."""
    pid = running_pid(config)
    if pid is not None:
        await _register_attributes(config)
        return StartResult(pid=pid, already_running=True)
    for port, what in ((config.port, "gRPC"), (config.ui_port, "UI")):
        if _port_in_use(port):
            raise DevServerError(
                f"{BIND_IP}:{port} ({what} port) is already in use by another process; stop it "
                "or choose other ports with PROJECTK_TEMPORAL_ADDRESS / PROJECTK_TEMPORAL_UI_PORT"
            )
    proc, log_offset = _spawn(config)
    try:
        await _wait_ready(config, proc, log_offset, timeout_s)
    except BaseException:
        with contextlib.suppress(DevServerError):  # keep the startup error, the more useful one
            _terminate(proc.pid)
        config.pid_path.unlink(missing_ok=True)
        raise
    log.info("dev server started, pid %d, at %s", proc.pid, config.address)
    return StartResult(pid=proc.pid, already_running=False)


def _spawn(config: DevServerConfig) -> tuple[subprocess.Popen[bytes], int]:
    config.state_dir.mkdir(parents=True, exist_ok=True)
    if config.log_path.exists() and config.log_path.stat().st_size > LOG_ROTATE_BYTES:
        config.log_path.replace(config.log_path.with_suffix(".log.1"))
    with config.log_path.open("ab") as log_file:
        offset = log_file.tell()
        proc = subprocess.Popen(
            config.command(),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=config.state_dir,
            start_new_session=True,  # own process group: outlives the CLI, killable as a group
        )
    tmp = config.pid_path.with_suffix(".pid.tmp")
    tmp.write_text(f"{proc.pid}\n")
    tmp.replace(config.pid_path)
    return proc, offset


async def _wait_ready(
    config: DevServerConfig, proc: subprocess.Popen[bytes], log_offset: int, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    last_problem = "no answer yet"
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            raise DevServerError(
                f"the dev server exited with code {code} while starting; "
                f"last lines of {config.log_path}:\n{_log_tail(config.log_path, log_offset)}"
            )
        try:
            client = await connect_address(
                config.address, config.namespace, timeout_s=PROBE_TIMEOUT_S
            )
            await ensure_search_attributes(client, config.namespace)
            return
        except SearchAttributeConflictError as exc:
            raise DevServerError(str(exc)) from None
        except (TemporalUnavailableError, RPCError) as exc:
            last_problem = str(exc)
        await asyncio.sleep(POLL_INTERVAL_S)
    raise DevServerError(
        f"the dev server did not answer at {config.address} within {timeout_s:g}s "
        f"({last_problem}); last lines of {config.log_path}:\n"
        f"{_log_tail(config.log_path, log_offset)}"
    )


async def _register_attributes(config: DevServerConfig) -> None:
    # Heals a running server whose attributes were removed; a server still starting up is
    # left to its own `--search-attribute` flags.
    try:
        client = await connect_address(config.address, config.namespace, timeout_s=PROBE_TIMEOUT_S)
        await ensure_search_attributes(client, config.namespace)
    except SearchAttributeConflictError as exc:
        raise DevServerError(str(exc)) from None
    except (TemporalUnavailableError, RPCError) as exc:
        log.warning("could not check search attributes on the running dev server: %s", exc)


def stop(config: DevServerConfig, *, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
    """Stop the running dev server (SIGTERM, then SIGKILL); return its pid, or None if none ran."""
    pid = running_pid(config)
    if pid is None:
        return None
    _terminate(pid, timeout_s)
    config.pid_path.unlink(missing_ok=True)
    log.info("dev server (pid %d) stopped", pid)
    return pid


async def status(config: DevServerConfig) -> DevServerStatus:
    """Report whether the dev server runs, answers, and has ProjectK's search attributes."""
    pid = running_pid(config)
    found: tuple[str, ...] = ()
    answering = False
    if pid is not None:
        try:
            client = await connect_address(
                config.address, config.namespace, timeout_s=PROBE_TIMEOUT_S
            )
            registered = await registered_search_attributes(client, config.namespace)
            answering = True
            found = tuple(key.name for key in SEARCH_ATTRIBUTES if key.name in registered)
        except (TemporalUnavailableError, RPCError) as exc:
            log.debug("dev server pid %d does not answer: %s", pid, exc)
    return DevServerStatus(
        running=pid is not None,
        pid=pid,
        answering=answering,
        address=config.address,
        ui_url=config.ui_url,
        db_path=config.db_path,
        log_path=config.log_path,
        search_attributes=found,
        missing_search_attributes=tuple(
            key.name for key in SEARCH_ATTRIBUTES if key.name not in found
        ),
    )


def _terminate(pid: int, timeout_s: float = STOP_TIMEOUT_S) -> None:
    # The server leads its own process group (start_new_session), so signal the group.
    _signal_group(pid, signal.SIGTERM)
    if _wait_dead(pid, timeout_s):
        return
    log.warning("dev server pid %d ignored SIGTERM for %gs; sending SIGKILL", pid, timeout_s)
    _signal_group(pid, signal.SIGKILL)
    if not _wait_dead(pid, KILL_TIMEOUT_S):
        raise DevServerError(f"could not stop the dev server (pid {pid}) even with SIGKILL")


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _wait_dead(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL_S / 2)
    return True


def _alive(pid: int) -> bool:
    # Reap the process first if it is our own child (tests start and stop in one process);
    # an unreaped zombie would otherwise look alive to kill(pid, 0).
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if _proc_state(pid) not in {"Z", "X"}:
        return True
    # It exited between the waitpid above and now: reap it if it is our child, so that no
    # zombie is left behind to look alive to anyone else. A blocking wait: /proc can show the
    # exit a moment before the kernel lets the parent reap it (seen on a loaded machine), and
    # a dead child is reaped at once; another process's pid raises ChildProcessError at once.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    return False


def _proc_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None  # no procfs (macOS) or the process just went away
    return stat.rpartition(")")[2].split()[0]


def _is_dev_server(pid: int, config: DevServerConfig) -> bool:
    # Guards against pid reuse: the process must be `start-dev` on this data dir's DB file.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no procfs: trust the live pid
    except OSError:
        return False
    return b"start-dev" in cmdline and str(config.db_path).encode() in cmdline


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((BIND_IP, port)) == 0


def _log_tail(path: Path, offset: int) -> str:
    try:
        with path.open("rb") as file:
            file.seek(offset)
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-LOG_TAIL_LINES:]) or "(log is empty)"
