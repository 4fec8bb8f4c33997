"""Private database servers that a test may stop and start: a PostgreSQL cluster made with
``initdb`` and run with ``pg_ctl``, and a MariaDB made with ``mariadb-install-db`` and run
as ``mariadbd --datadir``, each on its own port in the test's folder. The shared servers
on 5432 and 3306 are never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import sqlalchemy as sa

from tests.support.server import free_port

PG_BIN = (
    Path("/usr/lib/postgresql")
    / (
        sorted(os.listdir("/usr/lib/postgresql"))[-1]
        if Path("/usr/lib/postgresql").is_dir()
        else ""
    )
    / "bin"
)
START_TIMEOUT = 60.0


class PrivateDatabase(Protocol):
    @property
    def url(self) -> str: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def destroy(self) -> None: ...


def _as_owner(folder: Path, user: str, command: list[str]) -> list[str]:
    """Run as ``user`` when we are root (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return command
    shutil.chown(folder, user, user)
    return ["runuser", "-u", user, "--", *command]


def _wait_until_accepting(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
                return
            except sa.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        engine.dispose()


@dataclass
class PrivatePostgres:
    """``folder`` is made for the cluster, outside pytest's folders (which only root may
    enter), and belongs to the ``postgres`` user when the tests run as root."""

    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="stratus-pg-")))
    port: int = field(default_factory=free_port)

    @staticmethod
    def available() -> str | None:
        """Why a private PostgreSQL cannot run here, or None."""
        return None if (PG_BIN / "initdb").exists() else f"no initdb in {PG_BIN}"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        subprocess.run(
            _as_owner(self.folder, "postgres", [str(PG_BIN / command[0]), *command[1:]]),
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT,
        )

    def create(self) -> PrivatePostgres:
        self._run("initdb", "-D", str(self.folder / "data"), "-U", "postgres", "-A", "trust")
        self.start()
        return self

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}"
        self._run(
            "pg_ctl", "-D", str(self.folder / "data"), "-o", options,
            "-l", str(self.folder / "postgres.log"), "-w", "start",
        )  # fmt: skip
        _wait_until_accepting(self.url)

    def stop(self) -> None:
        """A fast shutdown, as in a maintenance restart: sessions are cut off."""
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        if (self.folder / "data" / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class PrivateMariaDB:
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> str | None:
        missing = [tool for tool in ("mariadb-install-db", "mariadbd") if not _which(tool)]
        return f"{', '.join(missing)} not found" if missing else None

    @property
    def url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/stratus"

    def create(self) -> PrivateMariaDB:
        self.folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                _which("mariadb-install-db"),
                "--no-defaults",  # the machine's my.cnf belongs to the shared server
                f"--datadir={self.folder / 'data'}",
                f"--user={_user()}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT * 2,
        )
        self.start()
        admin = sa.create_engine(self.url.rsplit("/", 1)[0] + "/mysql")
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE stratus"))
        admin.dispose()
        return self

    def start(self) -> None:
        with (self.folder / "mariadb.log").open("ab") as log:  # the child keeps its own copy
            self.process = self._launch(log)
        _wait_until_accepting(self.url.rsplit("/", 1)[0] + "/mysql")

    def _launch(self, log: IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                _which("mariadbd"),
                "--no-defaults",
                f"--datadir={self.folder / 'data'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--socket={self.folder / 'mariadb.sock'}",
                f"--pid-file={self.folder / 'mariadb.pid'}",
                f"--user={_user()}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(START_TIMEOUT)
            self.process = None

    def destroy(self) -> None:
        self.stop()


def _which(tool: str) -> str:
    for folder in ("/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"):
        if (Path(folder) / tool).exists():
            return str(Path(folder) / tool)
    return shutil.which(tool) or ""


def _user() -> str:
    import getpass

    return getpass.getuser()
