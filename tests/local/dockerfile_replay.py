"""Read the Dockerfile with Docker's own parser, and replay its builder stage without Docker.

There is no Docker engine on the CI machine, so the image is checked by running its steps:
the builder stage's RUN lines name their paths only through ``$BUILD_VENV``, ``$APP_VENV``
and ``$SRC``, so relocating those three variables under a temporary folder runs the very
same commands, from the same build context (filtered by .dockerignore), with the same
Python minor version. What cannot run here (the runtime stage's ``useradd`` and the
compilation of the base image's standard library) is checked structurally by the tests.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import dockerfile

from tests.local.contract import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"

#: The builder's path variables, relocated by the replay.
RELOCATED = ("BUILD_VENV", "APP_VENV", "SRC")
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


@dataclass(frozen=True)
class Instruction:
    cmd: str
    flags: tuple[str, ...]
    value: tuple[str, ...]
    json: bool
    line: int


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, cmd: str) -> list[Instruction]:
        return [i for i in self.instructions if i.cmd == cmd]

    def env(self) -> dict[str, str]:
        """The stage's ENV values, in order, as written (not expanded)."""
        env: dict[str, str] = {}
        for instruction in self.all("ENV"):
            env.update(env_pairs(instruction))
        return env


def env_pairs(instruction: Instruction) -> dict[str, str]:
    """``ENV K1=V1 K2=V2`` as a dict (Docker's parser gives a flat key, value, ... tuple)."""
    pairs = instruction.value
    return dict(zip(pairs[::2], pairs[1::2], strict=True))


@dataclass(frozen=True)
class ParsedDockerfile:
    args: dict[str, str]
    """Global ARGs (before the first FROM) with their defaults."""
    stages: dict[str, Stage]

    def stage(self, name: str) -> Stage:
        return self.stages[name]


def expand(text: str, env: dict[str, str]) -> str:
    """``$VAR`` and ``${VAR}`` as Docker expands them (unknown names become empty)."""
    return _VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)


def parse(path: Path = DOCKERFILE) -> ParsedDockerfile:
    args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for command in dockerfile.parse_file(str(path)):
        instruction = Instruction(
            cmd=command.cmd.upper(),
            flags=tuple(command.flags),
            value=tuple(command.value),
            json=command.json,
            line=command.start_line,
        )
        if instruction.cmd == "FROM":
            base, _as, name = instruction.value
            current = Stage(name=name, base=expand(base, args))
            stages[name] = current
        elif current is None and instruction.cmd == "ARG":
            key, _, default = instruction.value[0].partition("=")
            args[key] = expand(default, args)
        elif current is not None:
            current.instructions.append(instruction)
    return ParsedDockerfile(args=args, stages=stages)


# .dockerignore ----------------------------------------------------------------------------


def _pattern(raw: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex (``**`` any depth, ``*`` and ``?`` within a name)."""
    out = []
    text = raw.strip("/")
    i = 0
    while i < len(text):
        if text.startswith("**", i):
            out.append(".*")
            i += 2
        elif text[i] == "*":
            out.append("[^/]*")
            i += 1
        elif text[i] == "?":
            out.append("[^/]")
            i += 1
        elif text[i] == "[":
            end = text.index("]", i)
            out.append(text[i : end + 1])
            i = end + 1
        else:
            out.append(re.escape(text[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def build_context_files(root: Path = REPO_ROOT, ignore: Path = DOCKERIGNORE) -> list[str]:
    """The files Docker would send as the build context: later patterns win, and a pattern
    that matches a folder also matches everything in it."""
    rules = []
    for line in ignore.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rules.append((negated, _pattern(line.lstrip("!"))))

    def excluded(rel: str) -> bool:
        parts = rel.split("/")
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        verdict = False
        for negated, pattern in rules:
            if any(pattern.match(prefix) for prefix in prefixes):
                verdict = not negated
        return verdict

    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith((".git/", ".venv/")) and not excluded(rel):
            files.append(rel)
    return files


def materialise_context(target: Path) -> Path:
    """Copy the build context to ``target``, as ``docker build .`` would send it."""
    for rel in build_context_files():
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / rel, dest)
    return target


# Replay -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayedImage:
    """The replayed image: its venv, and how the runtime stage starts and probes it."""

    app_venv: Path
    env: dict[str, str]
    """The runtime stage's ENV, with the image's paths mapped to the replay's."""
    workdir: Path
    entrypoint: list[str]
    healthcheck: list[str]
    log: Path


def _copy(context: Path, sources: tuple[str, ...], dest: str) -> None:
    target = Path(dest)
    for source in sources:
        origin = context / source
        if not origin.exists():
            raise FileNotFoundError(f"COPY {source}: not in the build context (.dockerignore?)")
        if origin.is_dir():
            shutil.copytree(origin, target, dirs_exist_ok=True)
        elif dest.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target / origin.name)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)


#: Host variables the replay keeps: identity, and how this machine reaches PyPI (its CA
#: bundle and proxies). Everything else, including pip's configuration, is left behind.
_KEPT = {"HOME", "LANG", "TMPDIR", "USER", "PIP_CERT", "PIP_DEFAULT_TIMEOUT", "SSL_CERT_FILE"}
_KEPT |= {"SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}
_KEPT |= {name.lower() for name in _KEPT if name.endswith("PROXY")}


def _host_env(shims: Path) -> dict[str, str]:
    """A clean environment: no pip configuration or package sources of this machine (the
    image has none), and ``python`` resolving to the image's Python version."""
    keep = {k: v for k, v in os.environ.items() if k in _KEPT}
    return {
        **keep,
        "PATH": f"{shims}:/usr/local/bin:/usr/bin:/bin",
        "PIP_CONFIG_FILE": os.devnull,
    }


def apt_packages(instruction: Instruction) -> list[str]:
    """The packages an ``apt-get install`` RUN line installs."""
    match = re.search(r"apt-get install ([^&;]*)", instruction.value[0])
    assert match, f"line {instruction.line}: no apt-get install"
    return [word for word in match.group(1).split() if not word.startswith("-")]


def _require_debian_packages(instruction: Instruction) -> None:
    """Build tools from Debian are not installed by the replay (it would change this machine);
    this machine is Debian too, so they must already be there."""
    for package in apt_packages(instruction):
        installed = subprocess.run(["dpkg-query", "-W", package], capture_output=True)
        assert installed.returncode == 0, f"the replay needs the Debian package {package}"


def replay(python: Path, root: Path) -> ReplayedImage:
    """Run the builder stage's steps under ``root`` with ``python``; return the result."""
    parsed = parse()
    builder, runtime = parsed.stage("builder"), parsed.stage("runtime")
    image_paths = builder.env()
    relocated = {name: str(root / image_paths[name].lstrip("/")) for name in RELOCATED}
    context = materialise_context(root / "context")
    shims = root / "shims"
    shims.mkdir()
    for name in ("python", "python3"):
        (shims / name).symlink_to(python)

    env = _host_env(shims)
    log = root / "build.log"
    with log.open("w") as out:
        for instruction in builder.instructions:
            if instruction.cmd == "ENV":
                env.update({k: expand(v, env) for k, v in env_pairs(instruction).items()})
                env.update(relocated)
                # The one deviation from `docker build`: reuse this machine's pip cache.
                env.pop("PIP_NO_CACHE_DIR", None)
            elif instruction.cmd == "COPY":
                *sources, dest = instruction.value
                _copy(context, tuple(sources), expand(dest, env))
            elif instruction.cmd == "RUN" and instruction.value[0].startswith("apt-get "):
                _require_debian_packages(instruction)
            elif instruction.cmd == "RUN":
                out.write(f"\n### RUN (Dockerfile line {instruction.line})\n")
                out.flush()
                subprocess.run(
                    ["/bin/sh", "-c", instruction.value[0]],
                    env=env,
                    cwd=root,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    check=True,
                    timeout=900,
                )
            else:
                raise AssertionError(
                    f"the replay does not know {instruction.cmd} (line {instruction.line})"
                )

    app_venv = Path(relocated["APP_VENV"])
    runtime_env = runtime.env()
    workdir_image = expand(runtime.all("WORKDIR")[-1].value[0], runtime_env)
    workdir = root / workdir_image.lstrip("/")
    workdir.mkdir(parents=True)
    mapping = {image_paths["APP_VENV"]: str(app_venv), workdir_image: str(workdir)}
    base_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(workdir), "LANG": "C.UTF-8"}
    final = dict(base_env)
    for key, value in runtime_env.items():
        value = expand(value, final)
        for image_path, local_path in mapping.items():
            value = value.replace(image_path, local_path)
        final[key] = value
    return ReplayedImage(
        app_venv=app_venv,
        env=final,
        workdir=workdir,
        entrypoint=list(runtime.all("ENTRYPOINT")[-1].value),
        healthcheck=list(runtime.all("HEALTHCHECK")[-1].value[1:]),
        log=log,
    )
