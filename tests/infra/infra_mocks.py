"""Pulumi mocks that record the whole resource graph, for tests/infra.

Import only after ``pytest.importorskip("pulumi")``. Pitfalls handled here (see
shared/reference/testing-gcp-offline.md): mocks run with ``preview=False`` so ``apply``
callbacks run; provider-computed outputs (emails, connection names, URIs, digests,
auto-names) are filled in by the mock; each build runs inside ``@pulumi.runtime.test`` so
every registration has finished before the assertions, which then run on plain data.
"""

from __future__ import annotations

import asyncio
import json
import runpy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

REPO_ROOT = Path(__file__).resolve().parents[2]
MAIN = REPO_ROOT / "infra" / "__main__.py"
PROJECT = "test-project"
PROJECT_NUMBER = "123456789012"
REGION = "europe-west1"
DIGEST = "sha256:" + "ab" * 32
MEMBERS = ["user:lead@example.com", "domain:example.com"]
#: What pulumi-random "generates" under the mocks (the session-signing key).
RANDOM_VALUE = "generated-by-pulumi-random"

#: The config a team lead would have after the bootstrap script and one `config set`.
BASE_CONFIG: dict[str, str] = {
    "gcp:project": PROJECT,
    "gcp:region": REGION,
    "stratus:members": json.dumps(MEMBERS),
}


@dataclass
class Registered:
    """One resource registration, as the engine would have seen it."""

    urn: str
    typ: str
    name: str
    custom: bool
    parent: str
    dependencies: set[str]
    inputs: dict[str, Any]
    ignore_changes: list[str] = field(default_factory=list)
    additional_secret_outputs: list[str] = field(default_factory=list)


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like the GCP and docker-build providers would, for the outputs we read."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        state.setdefault("name", f"{args.name}-a1b2c3d")
        if args.typ == "gcp:serviceaccount/account:Account":
            email = f"{state['accountId']}@{PROJECT}.iam.gserviceaccount.com"
            state.update(email=email, member=f"serviceAccount:{email}", uniqueId="1234567890")
            state["name"] = f"projects/{PROJECT}/serviceAccounts/{email}"
        elif args.typ == "gcp:sql/databaseInstance:DatabaseInstance":
            state["connectionName"] = f"{PROJECT}:{REGION}:{state['name']}"
        elif args.typ == "gcp:storage/bucket:Bucket":
            state["url"] = f"gs://{state['name']}"
        elif args.typ == "gcp:cloudrunv2/service:Service":
            state["uri"] = f"https://{state['name']}-xyz123-ew.a.run.app"
        elif args.typ == "random:index/randomPassword:RandomPassword":
            state["result"] = RANDOM_VALUE
        elif args.typ == "docker-build:index:Image":
            state.update(digest=DIGEST, ref=f"{state['tags'][0]}@{DIGEST}")
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        if args.token == "gcp:organizations/getProject:getProject":
            return {**args.args, "number": PROJECT_NUMBER}
        return dict(args.args)


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A mock monitor that also keeps each registration's parent and dependencies."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.records: list[Registered] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.records.append(
                Registered(
                    urn=response.urn,
                    typ=request.type,
                    name=request.name,
                    custom=bool(request.custom),
                    parent=request.parent,
                    dependencies=set(request.dependencies),
                    inputs=rpc.deserialize_properties(request.object),
                    ignore_changes=list(request.ignoreChanges),
                    additional_secret_outputs=list(request.additionalSecretOutputs),
                )
            )
        return response


@dataclass
class Graph:
    """The registrations of one build, and the stack outputs it exported."""

    monitor: RecordingMonitor
    exports: dict[str, Any] = field(default_factory=dict)

    @property
    def resources(self) -> list[Registered]:
        return self.monitor.records

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str) -> Registered:
        found = self.of_type(typ)
        assert len(found) == 1, f"expected one {typ}, found {[r.name for r in found]}"
        return found[0]

    def named(self, typ: str, name: str) -> Registered:
        """The one resource of ``typ`` registered as ``name``."""
        (found,) = [r for r in self.of_type(typ) if r.name == name]
        return found

    def urn_of(self, typ: str, name: str) -> str:
        return next(r.urn for r in self.resources if r.typ == typ and r.name == name)

    def container(self) -> dict[str, Any]:
        """The Cloud Run service's one container, as registered."""
        return self.one("gcp:cloudrunv2/service:Service").inputs["template"]["containers"][0]

    def env(self) -> dict[str, str]:
        """The Cloud Run container's plain environment variables."""
        return {e["name"]: e["value"] for e in self.container()["envs"] if "value" in e}

    def secret_env(self) -> dict[str, dict[str, Any]]:
        """Variables Cloud Run fills from Secret Manager: name -> secretKeyRef."""
        return {
            e["name"]: e["valueSource"]["secretKeyRef"]
            for e in self.container()["envs"]
            if "valueSource" in e
        }

    def depends_on(self, dependent: Registered, typ: str) -> bool:
        """True if ``dependent`` waits for at least one resource of type ``typ``."""
        return any(r.urn in dependent.dependencies for r in self.of_type(typ))


def install(config: dict[str, str] | None = None, *, preview: bool = False) -> Graph:
    """Point the Pulumi runtime at fresh recording mocks with the given stack config."""
    # Pulumi's mocks run on the current event loop, and asyncio.run() in an earlier test
    # leaves the main thread without one.
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
    monitor = RecordingMonitor(RecordingMocks())
    pulumi.runtime.set_mocks(
        monitor.mocks, project="stratus", stack="test", preview=preview, monitor=monitor
    )
    pulumi.runtime.set_all_config({**BASE_CONFIG, **(config or {})})
    return Graph(monitor)


def build(graph: Graph, program: Callable[[], Any]) -> Graph:
    """Run ``program`` under the mocks and wait for every registration and export."""

    @pulumi.runtime.test
    def run() -> pulumi.Output[Any]:
        root = pulumi.runtime.get_root_resource()
        root.outputs.clear()
        result = pulumi.Output.from_input(program())
        exports = pulumi.Output.all(**root.outputs)
        return pulumi.Output.all(result, exports).apply(lambda pair: graph.exports.update(pair[1]))

    run()
    return graph


def run_main() -> None:
    """Run the real infra/__main__.py, as `pulumi up` does."""
    runpy.run_path(str(MAIN), run_name="__main__")


def config_for(**stratus: Any) -> dict[str, str]:
    """``stratus:*`` config from keyword arguments (values JSON-encoded when not strings)."""
    return {
        f"stratus:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in stratus.items()
    }
