"""What the local-parity tests compare against: the service's environment contract,
compose.yaml, the emulator release bundled on PyPI, and the image's lock files."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from packaging.utils import canonicalize_name
from pydantic import AliasChoices

from service.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "compose.yaml"

#: Variables read by the Google client libraries, not by Stratus: where the GCS emulator is,
#: and "no metadata server / Storage Control API here" (docs/local.md, "Emulator plumbing").
EMULATOR_ENV = frozenset(
    {"STORAGE_EMULATOR_HOST", "NO_GCE_CHECK", "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"}
)


def settings_env_names() -> frozenset[str]:
    """Every environment variable ``Settings`` reads (``STRATUS_*`` and ``PORT``)."""
    prefix = Settings.model_config.get("env_prefix", "")
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice).upper() for choice in alias.choices)
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{name}".upper())
    return frozenset(names)


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def fake_gcs_server_version(binary: Path) -> str:
    """The release a fake-gcs-server binary was built from (its ``-X main.version`` flag)."""
    match = re.search(rb"main\.version=(\d+\.\d+\.\d+)", binary.read_bytes())
    assert match, f"no version stamp in {binary}"
    return match.group(1).decode()


_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)")


def read_lock(path: Path) -> dict[str, tuple[str, int]]:
    """``{name: (version, number of hashes)}`` from a ``--generate-hashes`` lock file."""
    pins: dict[str, tuple[str, int]] = {}
    current = None
    for line in path.read_text().splitlines():
        if match := _PIN.match(line):
            current = canonicalize_name(match.group(1))
            pins[current] = (match.group(2), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
        elif line and not line.startswith((" ", "#")):
            raise AssertionError(f"{path.name}: unexpected line {line!r}")
    return pins
