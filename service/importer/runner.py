"""The import itself: walk the source, write to the target, journal each finished step.

Order: experiments and their runs (metadata, then each metric history in batches, then
artifacts), then logged models (their metrics attach to runs imported before), then the
registry (versions point at runs and logged models imported before). A step is marked
done in the journal only once complete, so an interruption anywhere is resumed by
running the same command again.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from service.importer.journal import Journal
from service.importer.locations import is_local, normalise, rewrite
from service.importer.progress import Progress
from service.importer.records import (
    SourceExperiment,
    SourceLoggedModel,
    SourceRegisteredModel,
    SourceRun,
)
from service.importer.sources.base import ArtifactsUnavailable, ArtifactTree, Source
from service.importer.targets.base import Target
from service.store.entities.registry import ModelVersion
from service.store.entities.tracking import MetricPoint
from service.store.imports import Outcome
from service.store.validation import MAX_METRICS_PER_BATCH


@dataclass(frozen=True)
class Options:
    #: Experiment names (glob patterns) or source ids to import; empty means all.
    experiments: list[str] = field(default_factory=list)
    #: Registered model names (glob patterns) to import; empty means all.
    models: list[str] = field(default_factory=list)
    #: Source experiment (id or name) -> target experiment id, chosen by the user.
    mappings: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    batch_size: int = MAX_METRICS_PER_BATCH


def batched(items: Iterable[MetricPoint], size: int) -> Iterator[list[MetricPoint]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def matches(patterns: list[str], *names: str) -> bool:
    return not patterns or any(
        fnmatch.fnmatchcase(name, pattern) for pattern in patterns for name in names
    )


class Importer:
    def __init__(
        self,
        source: Source,
        target: Target,
        journal: Journal,
        options: Options,
        progress: Progress,
    ) -> None:
        self.source = source
        self.target = target
        self.journal = journal
        self.options = options
        self.progress = progress
        #: What a dry run would have imported, standing in for the journal's "done".
        self.surveyed: set[tuple[str, str]] = set()

    def selected_experiments(self) -> Iterator[SourceExperiment]:
        for experiment in self.source.experiments():
            if matches(self.options.experiments, experiment.data.name, experiment.experiment_id):
                yield experiment

    def run(self) -> None:
        placed: list[tuple[SourceExperiment, int | None]] = []
        for experiment in self.selected_experiments():
            target_id = self._place(experiment)
            placed.append((experiment, target_id))
            for run in self.source.runs(experiment):
                self._run(run, target_id)
        for experiment, target_id in placed:
            for model in self.source.logged_models(experiment):
                self._logged_model(model, target_id)
        for registered in self.source.registered_models():
            if matches(self.options.models, registered.data.name):
                self._registered_model(registered)

    # --- experiments -----------------------------------------------------------------

    def _place(self, experiment: SourceExperiment) -> int | None:
        source_id, name = experiment.experiment_id, experiment.data.name
        known = self.journal.experiment(source_id)
        if known is not None:
            self.progress.already("experiments")
            return known
        mapped = self.options.mappings.get(source_id, self.options.mappings.get(name))
        wanted = mapped if mapped is not None else _as_int(source_id)
        placement = self.target.place_experiment(
            experiment.data, wanted, exact=mapped is not None, dry_run=self.options.dry_run
        )
        shown = "a new id" if placement.experiment_id is None else placement.experiment_id
        if placement.note:
            hint = (
                ""
                if mapped is not None
                else (f" To choose, pass --map-experiment {source_id}=<target id>.")
            )
            self.progress.say(
                f"experiment '{name}' (source id {source_id}) -> {shown}: {placement.note}.{hint}"
            )
        if placement.experiment_id is not None and not self.options.dry_run:
            self.journal.set_experiment(source_id, placement.experiment_id)
        self.progress.add("experiments")
        return placement.experiment_id

    # --- runs ------------------------------------------------------------------------

    def _run(self, run: SourceRun, experiment_id: int | None) -> None:
        run_id = run.data.run_id
        if self.journal.is_done("run", run_id):
            self.progress.already("runs")
            return
        if self.options.dry_run:
            for key in run.metric_keys:
                self.progress.add("points", self.source.point_count(run, key))
            self._survey(lambda: self.source.run_artifacts(run), f"run {run_id}")
            self.surveyed.add(("run", run_id))
            self.progress.add("runs")
            return
        assert experiment_id is not None
        placed = self.target.import_run(experiment_id, run.data)
        if placed.result.outcome is Outcome.SKIPPED:
            for note in placed.result.notes:
                self.progress.skip("runs", note)
            return
        for note in placed.result.notes:
            self.progress.say(f"run {run_id}: {note}")
        assert placed.artifact_uri is not None
        self.journal.set_location(normalise(run.artifact_uri), placed.artifact_uri)
        for key in run.metric_keys:
            if self.journal.is_done("metric", run_id, key):
                continue
            for batch in batched(self.source.metric_history(run, key), self.options.batch_size):
                self.target.import_metrics(run_id, batch)
                self.progress.add("points", len(batch))
            self.journal.mark_done("metric", run_id, key)
        if self._copy(lambda: self.source.run_artifacts(run), placed.artifact_uri, run_id):
            self.journal.mark_done("run", run_id)
        self.progress.add("runs")

    # --- artifacts -------------------------------------------------------------------

    def _copy(self, tree: Callable[[], ArtifactTree], location: str, owner: str) -> bool:
        """Stream every file not yet copied, hashing it on the way (sha256 in the journal).

        False when the files could not be read: the owner then stays unfinished in the
        journal, so running the same command once they are reachable copies them.
        """
        try:
            files = tree()
            for file in files.files():
                if self.journal.artifact(owner, file.path) is not None:
                    continue
                stream = _Hashing(files.chunks(file.path), self.progress)
                self.target.write_artifact(location, file.path, stream)
                self.journal.mark_artifact(owner, file.path, stream.size, stream.sha256.hexdigest())
                self.progress.add("artifacts")
        except ArtifactsUnavailable as exc:
            self.progress.skip("artifacts", f"{owner}: {exc}")
            return False
        return True

    def _survey(self, tree: Callable[[], ArtifactTree], owner: str) -> None:
        try:
            for file in tree().files():
                self.progress.add("artifacts")
                self.progress.add("bytes", file.size)
        except ArtifactsUnavailable as exc:
            self.progress.skip("artifacts", f"{owner}: {exc}")

    # --- logged models ---------------------------------------------------------------

    def _logged_model(self, model: SourceLoggedModel, experiment_id: int | None) -> None:
        model_id = model.data.model_id
        if self.journal.is_done("model", model_id):
            self.progress.already("logged models")
            return
        if self.options.dry_run:
            self._survey(lambda: self.source.model_artifacts(model), f"logged model {model_id}")
            self.surveyed.add(("model", model_id))
            self.progress.add("logged models")
            return
        assert experiment_id is not None
        placed = self.target.import_logged_model(experiment_id, model.data)
        if placed.result.outcome is Outcome.SKIPPED:
            for note in placed.result.notes:
                self.progress.skip("logged models", note)
            return
        assert placed.artifact_location is not None
        self.journal.set_location(normalise(model.artifact_location), placed.artifact_location)
        missing = 0
        metrics = self.source.logged_model_metrics(model)
        for batch in batched(metrics, self.options.batch_size):
            missing += self.target.import_model_metrics(model_id, batch)
        if missing:
            self.progress.say(
                f"logged model {model_id}: {missing} metric points belong to runs that were "
                "not imported; they were left out"
            )
        if self._copy(
            lambda: self.source.model_artifacts(model), placed.artifact_location, model_id
        ):
            self.journal.mark_done("model", model_id)
        self.progress.add("logged models")

    # --- registry --------------------------------------------------------------------

    def _registered_model(self, model: SourceRegisteredModel) -> None:
        name = model.data.name
        wanted = [v for v in model.versions if self._version_wanted(v)]
        if model.versions and not wanted:
            self.progress.skip(
                "registered models", f"'{name}': the runs of its versions were not imported"
            )
            return
        if not self.journal.is_done("registered model", name):
            if not self.options.dry_run:
                self.target.import_registered_model(model.data)
                self.journal.mark_done("registered model", name)
            self.progress.add("registered models")
        else:
            self.progress.already("registered models")
        imported: set[int] = set()
        for version in wanted:
            if self._version(version):
                imported.add(version.version)
        for alias, number in sorted(model.aliases.items()):
            if number not in imported:
                self.progress.skip("aliases", f"'{name}@{alias}': version {number} not imported")
            elif self.options.dry_run:
                self.progress.add("aliases")
            else:
                result = self.target.import_alias(name, alias, number)
                if result.outcome is Outcome.SKIPPED:
                    self.progress.skip("aliases", "; ".join(result.notes))
                elif result.outcome is Outcome.MERGED:
                    self.progress.already("aliases")
                else:
                    self.progress.add("aliases")

    def _version_wanted(self, version: ModelVersion) -> bool:
        """A version comes along when what it was made from did."""
        model_id = version.model_id or _model_id(version.source)
        if model_id and self._imported("model", model_id):
            return True
        if version.run_id:
            return self._imported("run", version.run_id)
        return not model_id

    def _imported(self, kind: str, key: str) -> bool:
        """Done in the journal or, in a dry run, seen on the way here."""
        return (kind, key) in self.surveyed or self.journal.is_done(kind, key)

    def _version(self, version: ModelVersion) -> bool:
        """Import one version; True when the target now has it."""
        label = f"'{version.name}' version {version.version}"
        if self.journal.is_done("model version", version.name, str(version.version)):
            self.progress.already("model versions")
            return True
        if self.options.dry_run:
            self.progress.add("model versions")
            return True
        source = rewrite(version.source, self.journal)
        if source is None:
            source = version.source
            if is_local(source):
                self.progress.say(f"{label}: its source {source} is not under imported artifacts")
        storage = rewrite(version.storage_location or "", self.journal) or None
        result = self.target.import_model_version(
            dataclasses.replace(version, source=source, storage_location=storage)
        )
        if result.outcome is Outcome.SKIPPED:
            for note in result.notes:
                self.progress.skip("model versions", note)
            return False
        self.journal.mark_done("model version", version.name, str(version.version))
        self.progress.add("model versions")
        return True


class _Hashing:
    """A file's chunks on their way to the target, with their sha256 and size taken."""

    def __init__(self, chunks: Iterator[bytes], progress: Progress) -> None:
        self.chunks = chunks
        self.progress = progress
        self.sha256 = hashlib.sha256()
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.sha256.update(chunk)
            self.size += len(chunk)
            self.progress.add("bytes", len(chunk))
            yield chunk


def _model_id(source: str) -> str | None:
    if source.startswith("models:/m-"):
        return source.removeprefix("models:/").split("/", 1)[0]
    return None


def _as_int(text: str) -> int | None:
    return int(text) if text.isdigit() else None
