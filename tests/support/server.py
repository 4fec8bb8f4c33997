"""Run the real ``stratus serve`` in a subprocess on a free loopback port.

It starts as the container does (Dockerfile ``ENTRYPOINT ["stratus", "serve"]``): the
``stratus`` command of this environment, configured by the environment alone (``PORT``,
``STRATUS_HOST`` and the store settings), so the same server, driver and settings path
run here as on Cloud Run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The console script next to this interpreter: what ``pip install`` put on PATH.
STRATUS_COMMAND = Path(sys.executable).parent / "stratus"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    """A live server; ``url`` is what a researcher would export as MLFLOW_TRACKING_URI."""

    database_url: str
    artifact_root: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    extra_args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"server-{self.port}.log"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        self.start_process()
        return self.wait_healthy(timeout)

    def start_process(self) -> None:
        """Launch ``stratus serve``; :meth:`wait_healthy` waits for it to answer."""
        env = {
            **os.environ,
            "STRATUS_DATABASE_URL": self.database_url,
            "STRATUS_ARTIFACT_ROOT": self.artifact_root,
            "STRATUS_DATA_DIR": str(self.workdir / "data"),
            "STRATUS_HOST": "127.0.0.1",
            "PORT": str(self.port),
            "PYTHONPATH": str(REPO_ROOT),
            **self.env,
        }
        env.pop("STRATUS_PORT", None)
        with self.log_path.open("ab") as log:  # the server writes to its own copy
            self.process = subprocess.Popen(
                [str(STRATUS_COMMAND), "serve", *self.extra_args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )

    def wait_healthy(self, timeout: float = 60.0) -> ServerProcess:
        assert self.process is not None, "start_process() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not become healthy:\n{self.log_path.read_text()[-4000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)
