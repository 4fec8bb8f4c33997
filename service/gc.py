"""``stratus gc``: permanently remove deleted runs, experiments, logged models and traces.

Deleting in the API or UI only marks things deleted (and restorable). ``stratus gc``, like
``mlflow gc``, removes what has stayed deleted long enough: database rows and artifact
files. For each item the files go first and the rows second, so a failure leaves the item
still listed (and retried by the next gc) rather than orphaned files nobody can find.

Safety rules:

* only artifacts under the server's own root (``mlflow-artifacts:`` locations) are
  touched; anything a client wrote elsewhere is left in place and reported;
* a run or logged model whose files a registered model version still loads is kept, and
  so is the experiment holding it;
* an experiment's own folder is removed only in the default layout (``<root>/<id>``),
  never a custom location another experiment might share.

Traces go when deleted, or, with a retention period (``STRATUS_TRACE_RETENTION_DAYS`` or
``--trace-retention``), once requested longer ago than that, deleted or not; their
artifact folder (``<experiment>/traces/<trace id>``) goes first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from service.artifacts import ArtifactPath, ArtifactStore, artifact_path, proxied_path
from service.errors import InvalidParameterValue, StratusError
from service.store.clock import now_ms
from service.store.entities.gc import Deleted, Selection
from service.store.experiments import parse_experiment_id
from service.store.gc import GarbageStore
from service.store.traces import TraceStore
from service.trace_payloads import trace_folder

Say = Callable[[str], None]

#: Abandoned upload staging files older than this are removed by every gc.
STAGING_MAX_AGE_SECONDS = 24 * 3600
#: A progress line every this many metric rows while a big run is removed.
PROGRESS_EVERY = 100_000
#: Traces removed per batch.
TRACE_BATCH = 500

_NUMBER = r"\d+(?:\.\d*)?"
_DURATION = re.compile("".join(f"(?:(?P<{unit}>{_NUMBER}){unit})?" for unit in "dhms"))
_UNIT_MS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1_000}


def parse_duration(text: str) -> int:
    """``mlflow gc --older-than`` syntax (``30d``, ``1d2h3m4s``, ``1.5h``) in milliseconds."""
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise InvalidParameterValue(
            f"Could not parse {text!r} as a duration; examples: '30d', '8h', '2d8h5m20s'."
        )
    return int(sum(float(v) * _UNIT_MS[unit] for unit, v in match.groupdict().items() if v))


@dataclass
class Tally:
    experiments: int = 0
    runs: int = 0
    logged_models: int = 0
    metric_rows: int = 0
    traces: int = 0
    kept: int = 0
    failures: int = 0

    def count(self, item: Deleted) -> None:
        if item.kind == "experiment":
            self.experiments += 1
        elif item.kind == "run":
            self.runs += 1
        else:
            self.logged_models += 1


class Collector:
    """Walks a :class:`Selection` and removes (or, on a dry run, reports) each item."""

    def __init__(
        self,
        garbage: GarbageStore,
        artifacts: ArtifactStore,
        say: Say,
        *,
        dry_run: bool,
        traces: TraceStore | None = None,
        trace_retention_ms: int | None = None,
    ) -> None:
        self.garbage = garbage
        self.traces = traces
        self.trace_retention_ms = trace_retention_ms
        self.artifacts = artifacts
        self.say = say
        self.dry_run = dry_run
        self.tally = Tally()

    def collect(self, selection: Selection) -> Tally:
        self.garbage.check(selection)
        for experiment in self.garbage.experiments(selection):
            self._experiment(experiment)
        for item in self.garbage.runs(selection):
            self._item(item)
        for item in self.garbage.logged_models(selection):
            self._item(item)
        if self.traces is not None and not selection.explicit:
            self._traces(self.traces, selection.deleted_before)
        if not self.dry_run:
            staged = self.artifacts.purge_staging(STAGING_MAX_AGE_SECONDS)
            if staged:
                self.say(f"removed {staged} abandoned upload(s) from the staging area")
        return self.tally

    def _traces(self, store: TraceStore, deleted_before: int | None) -> None:
        """Deleted traces, and traces past the retention period: files, then rows."""
        retention = self.trace_retention_ms
        requested_before = now_ms() - retention if retention is not None else None
        after = ""
        while batch := store.expired(
            deleted_before=deleted_before,
            requested_before=requested_before,
            after=after,
            limit=TRACE_BATCH,
        ):
            after = batch[-1][0]
            if self.dry_run:
                self.tally.traces += len(batch)
                continue
            removed: list[str] = []
            for trace_id, experiment_id in batch:
                try:
                    self.artifacts.delete(artifact_path(trace_folder(experiment_id, trace_id)))
                    removed.append(trace_id)
                except Exception as exc:  # report, keep going; the trace stays for the next gc
                    self.tally.failures += 1
                    self.say(f"FAILED trace {trace_id}: {exc!r}; it stays for the next gc")
            store.purge(removed)
            self.tally.traces += len(removed)
            self.say(f"removed {self.tally.traces:,} trace(s) so far")
        if self.dry_run and self.tally.traces:
            self.say(f"would remove {self.tally.traces:,} trace(s) and their artifact folders")

    def _experiment(self, experiment: Deleted) -> None:
        self.say(f"experiment {experiment.id}:")
        whole = True
        for item in self.garbage.contents(experiment.experiment_id):
            whole = self._item(item, indent="  ") and whole
        if not whole:
            self.tally.kept += 1
            self.say(f"kept experiment {experiment.id}: not all of its contents could go (above)")
            return
        path = proxied_path(experiment.artifact_uri)
        own_folder = path if path == str(experiment.experiment_id) else None
        self._remove(
            experiment, own_folder, lambda: self.garbage.purge_experiment(experiment.experiment_id)
        )

    def _item(self, item: Deleted, indent: str = "") -> bool:
        """Remove a run or logged model; False if it has to stay."""
        if self.garbage.in_registry(item):
            self.tally.kept += 1
            self.say(f"{indent}kept {item.kind} {item.id}: a registered model version uses it")
            return False
        if item.kind == "logged model":
            return self._remove(
                item, own_folder(item), lambda: self.garbage.purge_logged_model(item.id), indent
            )
        rows = self.garbage.metric_rows(item.id)

        def purge() -> None:
            self.garbage.purge_run(item.id, self._progress(item, indent))

        removed = self._remove(item, own_folder(item), purge, indent, f" ({rows:,} metric rows)")
        if removed:
            self.tally.metric_rows += rows
        return removed

    def _remove(
        self,
        item: Deleted,
        folder: ArtifactPath | None,
        purge: Callable[[], None],
        indent: str = "",
        detail: str = "",
    ) -> bool:
        where = f"artifacts {folder}/" if folder else self._elsewhere(item)
        if self.dry_run:
            self.tally.count(item)
            self.say(f"{indent}would remove {item.kind} {item.id}{detail}, {where}")
            return True
        try:
            if folder:
                self.artifacts.delete(folder)
            purge()
        except Exception as exc:  # report, keep going; the item stays for the next gc
            self.tally.failures += 1
            self.say(f"{indent}FAILED {item.kind} {item.id}: {exc!r}; it stays for the next gc")
            return False
        self.tally.count(item)
        self.say(f"{indent}removed {item.kind} {item.id}{detail}, {where}")
        return True

    def _elsewhere(self, item: Deleted) -> str:
        if proxied_path(item.artifact_uri) is None:
            return f"artifacts at {item.artifact_uri} left in place (not under the server's root)"
        return "no artifact folder of its own"

    def _progress(self, item: Deleted, indent: str) -> Callable[[int], None]:
        """A callback that prints every PROGRESS_EVERY metric rows of a big run."""
        shown = 0

        def report(removed: int) -> None:
            nonlocal shown
            if removed // PROGRESS_EVERY > shown // PROGRESS_EVERY:
                shown = removed
                self.say(f"{indent}  run {item.id}: {removed:,} metric rows removed so far")

        return report


def own_folder(item: Deleted) -> ArtifactPath | None:
    """The folder holding only this item's files: ``.../<id>`` above ``.../<id>/artifacts``."""
    path = proxied_path(item.artifact_uri)
    if not path:
        return None
    parent, _, leaf = path.rpartition("/")
    if leaf == "artifacts" and parent.rpartition("/")[2] == item.id:
        return artifact_path(parent)
    return path


def summary(tally: Tally, *, dry_run: bool) -> str:
    verb = "would remove" if dry_run else "removed"
    return (
        f"gc {verb} {tally.experiments} experiment(s), {tally.runs} run(s) "
        f"({tally.metric_rows:,} metric rows), {tally.logged_models} logged model(s), "
        f"{tally.traces} trace(s); "
        f"kept {tally.kept}; {tally.failures} failure(s)"
    )


def run(
    garbage: GarbageStore,
    artifacts: ArtifactStore,
    *,
    older_than: str | None = None,
    run_ids: str | None = None,
    experiment_ids: str | None = None,
    logged_model_ids: str | None = None,
    dry_run: bool = False,
    say: Say = print,
    traces: TraceStore | None = None,
    trace_retention: str | None = None,
) -> int:
    """The command: comma-separated ids as ``mlflow gc`` takes them; returns the exit code."""
    try:
        experiments = _ids(experiment_ids)
        selection = Selection(
            deleted_before=now_ms() - parse_duration(older_than) if older_than else None,
            run_ids=_ids(run_ids),
            experiment_ids=None
            if experiments is None
            else [parse_experiment_id(i) for i in experiments],
            logged_model_ids=_ids(logged_model_ids),
        )
        age = f"deleted more than {older_than} ago" if older_than else "in the deleted stage"
        say(f"gc{' (dry run)' if dry_run else ''}: items {age}; artifacts under {artifacts.root}")
        retention = parse_duration(trace_retention) if trace_retention else None
        collector = Collector(
            garbage,
            artifacts,
            say,
            dry_run=dry_run,
            traces=traces,
            trace_retention_ms=retention,
        )
        tally = collector.collect(selection)
    except StratusError as exc:
        say(f"gc: {exc.message}")
        return 2
    say(summary(tally, dry_run=dry_run))
    return 1 if tally.failures else 0


def _ids(raw: str | None) -> list[str] | None:
    return None if raw is None else [part.strip() for part in raw.split(",") if part.strip()]
