"""``--verify``: read the target back and compare it with the source.

Per run: the run's fields, params, tags, the number of distinct points of every metric
(counted on disk, so memory stays flat), and every artifact by size and sha256. Per
logged model: its artifacts. Per registered model: its versions and aliases. The source
side of a checksum is the one taken while the file was copied when the journal has it
for a file of the same size, and is computed afresh otherwise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from service.importer.journal import Journal
from service.importer.progress import Progress
from service.importer.records import SourceRun
from service.importer.runner import Options, matches
from service.importer.sources.base import ArtifactsUnavailable, ArtifactTree, Source

RUN_FIELDS = ("name", "user_id", "status", "start_time", "end_time", "lifecycle_stage")


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


class Verifier:
    def __init__(
        self,
        source: Source,
        target: Source,
        journal: Journal,
        options: Options,
        progress: Progress,
    ) -> None:
        self.source = source
        self.target = target
        self.journal = journal
        self.options = options
        self.progress = progress
        self.report = Report()

    def problem(self, message: str) -> None:
        self.report.problems.append(message)
        self.progress.say(f"MISMATCH {message}")

    def run(self) -> Report:
        targets = {e.experiment_id: e for e in self.target.experiments()}
        for experiment in self.source.experiments():
            name, source_id = experiment.data.name, experiment.experiment_id
            if not matches(self.options.experiments, name, source_id):
                continue
            target_id = self.journal.experiment(source_id)
            target = targets.get(str(target_id))
            if target is None:
                self.problem(f"experiment '{name}' (source id {source_id}) is not on the target")
                continue
            runs = {r.data.run_id: r for r in self.target.runs(target)}
            for run in self.source.runs(experiment):
                found = runs.get(run.data.run_id)
                if found is None:
                    self.problem(f"run {run.data.run_id} of '{name}' is not on the target")
                else:
                    self._run(run, found)
            models = {m.data.model_id: m for m in self.target.logged_models(target)}
            for model in self.source.logged_models(experiment):
                if model.data.lifecycle_stage != "active":
                    continue
                copy = models.get(model.data.model_id)
                if copy is None:
                    self.problem(f"logged model {model.data.model_id} is not on the target")
                    continue
                self._artifacts(
                    model.data.model_id,
                    partial(self.source.model_artifacts, model),
                    partial(self.target.model_artifacts, copy),
                )
                self.progress.add("logged models")
        self._registry()
        return self.report

    def _run(self, run: SourceRun, copy: SourceRun) -> None:
        run_id = run.data.run_id
        for name in RUN_FIELDS:
            mine, theirs = getattr(run.data, name), getattr(copy.data, name)
            if mine != theirs:
                self.problem(f"run {run_id}: {name} is {theirs!r} on the target, {mine!r} here")
        target_params = {p.key: p.value for p in copy.data.params}
        if {p.key: p.value for p in run.data.params} != target_params:
            self.problem(f"run {run_id}: params differ")
        target_tags = {t.key: t.value for t in copy.data.tags}
        for tag in run.data.tags:
            if target_tags.get(tag.key) != tag.value:
                self.problem(f"run {run_id}: tag {tag.key!r} differs")
        if set(run.metric_keys) != set(copy.metric_keys):
            self.problem(f"run {run_id}: metric keys differ")
        for key in sorted(set(run.metric_keys) & set(copy.metric_keys)):
            mine = self.journal.count_distinct(self.source.metric_history(run, key))
            theirs = self.journal.count_distinct(self.target.metric_history(copy, key))
            if mine != theirs:
                self.problem(f"run {run_id}: metric {key!r} has {theirs} points, {mine} here")
            self.progress.add("points", mine)
        self._artifacts(
            run_id,
            lambda: self.source.run_artifacts(run),
            lambda: self.target.run_artifacts(copy),
        )
        self.progress.add("runs")

    def _artifacts(
        self,
        owner: str,
        source_tree: Callable[[], ArtifactTree],
        target_tree: Callable[[], ArtifactTree],
    ) -> None:
        try:
            mine, theirs = source_tree(), target_tree()
            target_files = {f.path: f.size for f in theirs.files()}
            for file in mine.files():
                size = target_files.pop(file.path, None)
                if size is None:
                    self.problem(f"{owner}: artifact {file.path} is not on the target")
                    continue
                known = self.journal.artifact(owner, file.path)
                expected = known[1] if known and known[0] == file.size else None
                expected = expected or _sha256(mine.chunks(file.path))
                if size != file.size or _sha256(theirs.chunks(file.path)) != expected:
                    self.problem(f"{owner}: artifact {file.path} differs (sha256)")
                self.progress.add("artifacts")
                self.progress.add("bytes", file.size)
            for path in sorted(target_files):
                self.problem(f"{owner}: artifact {path} is on the target only")
        except ArtifactsUnavailable as exc:
            self.problem(f"{owner}: artifacts not compared: {exc}")

    def _registry(self) -> None:
        targets = {m.data.name: m for m in self.target.registered_models()}
        for model in self.source.registered_models():
            name = model.data.name
            if not matches(self.options.models, name):
                continue
            imported = [
                v
                for v in model.versions
                if self.journal.is_done("model version", name, str(v.version))
            ]
            if not imported:
                continue
            copy = targets.get(name)
            if copy is None:
                self.problem(f"registered model '{name}' is not on the target")
                continue
            versions = {v.version: v for v in copy.versions}
            for version in imported:
                found = versions.get(version.version)
                if found is None:
                    self.problem(f"'{name}' version {version.version} is not on the target")
                elif (found.run_id, found.current_stage, found.status) != (
                    version.run_id,
                    version.current_stage,
                    version.status,
                ):
                    self.problem(f"'{name}' version {version.version} differs")
                self.progress.add("model versions")
            for alias, number in model.aliases.items():
                if number in versions and copy.aliases.get(alias) != number:
                    self.problem(f"alias '{name}@{alias}' does not name version {number}")
            self.progress.add("registered models")
