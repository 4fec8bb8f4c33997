"""Traces: trace info, tags, metadata, run links and spans. Assessments live in
``assessments.py``.

A trace arrives in two halves, in either order: its spans (OTLP, from ``log_spans``) and
its info (the client's StartTraceV3, from ``start_trace``). Whichever comes first creates
the row; the info always wins for times, state and previews, and a root span fills them
in only while no info has come. Writers of one trace lock its row first, so each sees
what the others wrote (the span count behind the spans-location tag depends on it).
Deleting marks ``deleted_time``; ``stratus gc`` purges.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from service.errors import InvalidParameterValue, ResourceDoesNotExist
from service.store import key_values, search
from service.store.any_of import any_of
from service.store.auth import Visible
from service.store.clock import now_ms
from service.store.db import Database, planned_for_values
from service.store.entities.common import KeyValue, Page
from service.store.entities.traces import (
    ARTIFACT_LOCATION_TAG,
    SPANS_LOCATION_TAG,
    TRACKING_STORE,
    RootSummary,
    SpanRecord,
    TraceInfo,
    TraceWithSpans,
)
from service.store.experiments import PROXIED_ARTIFACTS_SCHEME, ExperimentStore
from service.store.search.traces import TRACE_NAME_TAG, trace_search_query
from service.store.tables import Assessment as AssessmentRow
from service.store.tables import (
    Run,
    Span,
    SpanAttribute,
    Trace,
    TraceMetadata,
    TraceRun,
    TraceTag,
    table_of,
)
from service.store.trace_infos import INFO_COLUMNS, infos_of, load_infos
from service.store.validation import MAX_KEY_LENGTH, MAX_TAG_VALUE_LENGTH, validate_length

traces = table_of(Trace)
trace_tags = table_of(TraceTag)
trace_metadata = table_of(TraceMetadata)
trace_runs = table_of(TraceRun)
spans = table_of(Span)
#: The span columns in ``SpanRecord``'s field order: rows become records positionally.
_SPAN_COLUMNS = tuple(
    spans.c[field]
    for field in (
        "trace_id",
        "span_id",
        "parent_span_id",
        "name",
        "span_type",
        "status",
        "start_time_ns",
        "end_time_ns",
        "content",
        "content_ref",
    )
)
runs = table_of(Run)
assessments = table_of(AssessmentRow)
span_attributes = table_of(SpanAttribute)

T = TypeVar("T")

#: MLflow's limits: trace ids per delete or link call, previews kept per trace.
MAX_TRACES_PER_CALL = 100
MAX_PREVIEW_LENGTH = 10_000
MAX_TRACE_ID_LENGTH = 64
LINKED_PROMPTS_TAG = "mlflow.linkedPrompts"
WRITE_ATTEMPTS = 4
#: Trace metadata the client writes: span count and sizes, as JSON.
SIZE_STATS_METADATA = "mlflow.trace.sizeStats"


def trace_artifact_location(experiment_id: int, trace_id: str) -> str:
    """Where the client uploads ``traces.json`` (and attachments): proxied, so researchers
    never need storage credentials."""
    return f"{PROXIED_ARTIFACTS_SCHEME}/{experiment_id}/traces/{trace_id}/artifacts"


def _preview(text: str | None) -> str | None:
    return text[:MAX_PREVIEW_LENGTH] if text else text


class TraceStore:
    def __init__(self, db: Database, experiments: ExperimentStore) -> None:
        self.db = db
        self.experiments = experiments

    # --- writes ----------------------------------------------------------------------

    def start_trace(self, info: TraceInfo) -> TraceInfo:
        """Create or complete a trace from the client's trace info (StartTraceV3)."""
        _check_trace_id(info.trace_id)
        _check_tags(info.tags)
        _check_tags(info.metadata)

        def write(conn: Connection) -> None:
            self.experiments.require_active(conn, info.experiment_id)
            existing = conn.execute(
                sa.select(traces.c.experiment_id, traces.c.deleted_time)
                .where(traces.c.trace_id == info.trace_id)
                .with_for_update()
            ).first()
            values = {
                "experiment_id": info.experiment_id,
                "request_time": info.request_time,
                "execution_duration": info.execution_duration,
                "state": info.state,
                "client_request_id": info.client_request_id or None,
                "request_preview": _preview(info.request_preview),
                "response_preview": _preview(info.response_preview),
                "finalized": True,
            }
            if existing is None:
                conn.execute(sa.insert(traces).values(trace_id=info.trace_id, **values))
            else:
                _check_same_experiment(info.trace_id, existing[0], info.experiment_id)
                conn.execute(
                    sa.update(traces).where(traces.c.trace_id == info.trace_id).values(**values)
                )
            tags = {
                **info.tags,
                ARTIFACT_LOCATION_TAG: trace_artifact_location(info.experiment_id, info.trace_id),
            }
            tags.pop(SPANS_LOCATION_TAG, None)  # the server's to say, below
            _put(conn, trace_tags, info.trace_id, tags)
            _put(conn, trace_metadata, info.trace_id, info.metadata)
            _mark_spans_location(conn, info.trace_id)

        self._write_retrying(write)
        return self.get_info(info.trace_id)

    def log_spans(
        self, experiment_id: int, records: Sequence[SpanRecord], roots: dict[str, RootSummary]
    ) -> list[str]:
        """Store spans (replacing any with the same ids); returns the trace ids touched.

        A trace the spans name and nobody has created yet is created in ``experiment_id``;
        ``roots`` (root span summaries by trace id) fills in its times, state and previews.
        """
        by_trace: dict[str, list[SpanRecord]] = {}
        for record in records:
            _check_trace_id(record.trace_id)
            by_trace.setdefault(record.trace_id, []).append(record)

        def write(conn: Connection) -> None:
            existing = {
                row[0]: (row[1], row[2])
                for row in conn.execute(
                    sa.select(traces.c.trace_id, traces.c.experiment_id, traces.c.finalized)
                    .where(any_of(traces.c.trace_id, list(by_trace)))
                    .with_for_update()
                )
            }
            new = {t: items for t, items in by_trace.items() if t not in existing}
            if new:
                # A new trace has no spans, tags or metadata yet: plain inserts, all the
                # export's new traces at once, and its spans are all here until the trace
                # info says how many to expect.
                self.experiments.require_active(conn, experiment_id)
                _insert_from_spans(conn, experiment_id, new, roots)
                _insert_spans(conn, [item for items in new.values() for item in items])
            for trace_id, (stored_experiment, finalized) in existing.items():
                _check_same_experiment(trace_id, stored_experiment, experiment_id)
                root = roots.get(trace_id)
                if root is not None and not finalized:
                    _complete_from_root(conn, trace_id, root)
                items = by_trace[trace_id]
                span_ids = [item.span_id for item in items]
                for table in (spans, span_attributes):
                    conn.execute(
                        sa.delete(table).where(
                            table.c.trace_id == trace_id, table.c.span_id.in_(span_ids)
                        )
                    )
                _insert_spans(conn, items)
                _mark_spans_location(conn, trace_id)

        if by_trace:
            self._write_retrying(write)
        return list(by_trace)

    def set_tag(self, trace_id: str, key: str, value: str) -> None:
        _check_tags({key: value})
        with self.db.write() as conn:
            self._require(conn, trace_id)
            _put(conn, trace_tags, trace_id, {key: value})

    def delete_tag(self, trace_id: str, key: str) -> None:
        with self.db.write() as conn:
            self._require(conn, trace_id)
            deleted = conn.execute(
                sa.delete(trace_tags).where(
                    trace_tags.c.trace_id == trace_id, trace_tags.c.key == key
                )
            ).rowcount
        if not deleted:
            raise ResourceDoesNotExist(f"No trace tag with key '{key}' for trace '{trace_id}'")

    def delete(
        self,
        experiment_id: int,
        *,
        trace_ids: Sequence[str] = (),
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
    ) -> int:
        """Mark traces deleted: the given ids, or the oldest (up to ``max_traces``) of those
        requested at or before ``max_timestamp_millis``. Returns how many."""
        if bool(trace_ids) == (max_timestamp_millis is not None):
            raise InvalidParameterValue(
                "Exactly one of 'max_timestamp_millis' and 'request_ids' must be specified."
            )
        if max_traces is not None and max_traces <= 0:
            raise InvalidParameterValue("'max_traces' must be a positive integer.")
        live = sa.and_(traces.c.experiment_id == experiment_id, traces.c.deleted_time.is_(None))
        with self.db.write() as conn:
            self.experiments.require_active(conn, experiment_id)
            if trace_ids:
                if len(trace_ids) > MAX_TRACES_PER_CALL:
                    raise InvalidParameterValue(
                        f"At most {MAX_TRACES_PER_CALL} trace ids can be deleted at once."
                    )
                chosen = sa.and_(live, traces.c.trace_id.in_(list(trace_ids)))
            else:
                query = (
                    sa.select(traces.c.trace_id)
                    .where(live, traces.c.request_time <= max_timestamp_millis)
                    .order_by(traces.c.request_time, traces.c.trace_id)
                )
                if max_traces is not None:
                    query = query.limit(max_traces)
                ids = list(conn.execute(query).scalars())
                if not ids:
                    return 0
                chosen = traces.c.trace_id.in_(ids)
            return int(
                conn.execute(sa.update(traces).where(chosen).values(deleted_time=now_ms())).rowcount
            )

    def link_to_run(self, trace_ids: Sequence[str], run_id: str) -> None:
        if len(trace_ids) > MAX_TRACES_PER_CALL:
            raise InvalidParameterValue(
                f"At most {MAX_TRACES_PER_CALL} traces can be linked to a run at once."
            )
        with self.db.write() as conn:
            run_experiment = conn.execute(
                sa.select(runs.c.experiment_id).where(runs.c.run_uuid == run_id)
            ).scalar()
            if run_experiment is None:
                raise ResourceDoesNotExist(f"Run with id={run_id} not found")
            for trace_id in dict.fromkeys(trace_ids):
                experiment_id = self._require(conn, trace_id)
                if experiment_id != run_experiment:
                    raise InvalidParameterValue(
                        f"Trace '{trace_id}' belongs to experiment {experiment_id}, not to the "
                        f"run's experiment {run_experiment}."
                    )
                conn.execute(
                    sa.delete(trace_runs).where(
                        trace_runs.c.trace_id == trace_id, trace_runs.c.run_id == run_id
                    )
                )
                conn.execute(sa.insert(trace_runs).values(trace_id=trace_id, run_id=run_id))

    def link_prompts(self, trace_id: str, prompts: Sequence[tuple[str, str]]) -> None:
        """Record prompt versions (name, version) the trace used, in MLflow's tag."""
        with self.db.write() as conn:
            self._require(conn, trace_id)
            current = conn.execute(
                sa.select(trace_tags.c.value).where(
                    trace_tags.c.trace_id == trace_id, trace_tags.c.key == LINKED_PROMPTS_TAG
                )
            ).scalar()
            linked = _json_list(current)
            for name, version in prompts:
                entry = {"name": name, "version": str(version)}
                if entry not in linked:
                    linked.append(entry)
            value = json.dumps(linked)
            _check_tags({LINKED_PROMPTS_TAG: value})
            _put(conn, trace_tags, trace_id, {LINKED_PROMPTS_TAG: value})

    # --- garbage collection (stratus gc) ----------------------------------------------

    def expired(
        self,
        *,
        deleted_before: int | None,
        requested_before: int | None,
        after: str = "",
        limit: int,
    ) -> list[tuple[str, int]]:
        """The next ``limit`` (trace id, experiment id) pairs past ``after``, by id, for gc:
        traces deleted (before ``deleted_before``, if given), and traces requested before
        ``requested_before``."""
        deleted: sa.ColumnElement[bool] = traces.c.deleted_time.is_not(None)
        if deleted_before is not None:
            deleted = sa.and_(deleted, traces.c.deleted_time < deleted_before)
        doomed: sa.ColumnElement[bool] = deleted
        if requested_before is not None:
            doomed = sa.or_(deleted, traces.c.request_time < requested_before)
        query = (
            sa.select(traces.c.trace_id, traces.c.experiment_id)
            .where(doomed, traces.c.trace_id > after)
            .order_by(traces.c.trace_id)
            .limit(limit)
        )
        with self.db.read() as conn:
            return [(str(t), int(e)) for t, e in conn.execute(query)]

    def purge(self, trace_ids: Sequence[str]) -> None:
        """Remove traces for good, with their tags, metadata, spans and assessments."""
        if not trace_ids:
            return
        with self.db.write() as conn:
            for table in (
                span_attributes,
                spans,
                assessments,
                trace_tags,
                trace_metadata,
                trace_runs,
            ):
                conn.execute(sa.delete(table).where(any_of(table.c.trace_id, list(trace_ids))))
            conn.execute(sa.delete(traces).where(any_of(traces.c.trace_id, list(trace_ids))))

    # --- reads -----------------------------------------------------------------------

    def experiments_of(self, trace_ids: Sequence[str]) -> list[int]:
        """The experiments of the live traces among ``trace_ids`` (for access checks)."""
        if not trace_ids:
            return []
        with self.db.read() as conn:
            found = conn.execute(
                sa.select(traces.c.experiment_id)
                .where(any_of(traces.c.trace_id, list(trace_ids)), traces.c.deleted_time.is_(None))
                .distinct()
            ).scalars()
            return sorted(int(e) for e in found)

    def get_info(self, trace_id: str) -> TraceInfo:
        with self.db.read() as conn:
            found = load_infos(conn, [trace_id])
        if not found:
            raise ResourceDoesNotExist(f"Trace with ID '{trace_id}' not found.")
        return found[0]

    def get_traces(
        self, trace_ids: Sequence[str], experiment_ids: Sequence[int] | None = None
    ) -> list[TraceWithSpans]:
        """Live traces with their spans (in start order), in the order asked; unknown ids
        are left out. ``experiment_ids`` limits the answer to those experiments."""
        with self.db.read() as conn:
            infos = load_infos(conn, list(dict.fromkeys(trace_ids)))
            if experiment_ids is not None:
                infos = [i for i in infos if i.experiment_id in experiment_ids]
            by_trace: dict[str, list[SpanRecord]] = {i.trace_id: [] for i in infos}
            if infos:
                rows = conn.execute(
                    sa.select(*_SPAN_COLUMNS)
                    .where(any_of(spans.c.trace_id, list(by_trace)))
                    .order_by(spans.c.trace_id, spans.c.start_time_ns, spans.c.span_id)
                )
                for row in rows:
                    by_trace[row[0]].append(SpanRecord(*row))
        return [TraceWithSpans(info, by_trace[info.trace_id]) for info in infos]

    def search(
        self,
        experiment_ids: Sequence[int],
        *,
        filter_string: str | None,
        order_by: Sequence[str],
        max_results: int | None,
        page_token: str | None,
        visible: Visible | None = None,
    ) -> Page[TraceInfo]:
        """``visible`` drops experiments the caller may not read (service/auth)."""
        max_results = search.check_max_results(max_results, search.Target.TRACES)
        comparisons = search.parse_filter(filter_string, search.Target.TRACES)
        order_keys = search.parse_order_by(order_by, search.Target.TRACES)
        offset = search.decode_page_token(page_token)
        query = trace_search_query(experiment_ids, comparisons, order_keys)
        if visible is not None:
            query = query.where(visible.clause(traces.c.experiment_id))
        query = query.with_only_columns(*INFO_COLUMNS).offset(offset).limit(max_results + 1)
        with self.db.read() as conn:
            with planned_for_values(conn):
                rows = conn.execute(query).fetchall()
            more = len(rows) > max_results
            infos = infos_of(conn, rows[:max_results])
        token = search.encode_page_token(offset + max_results) if more else None
        return Page(infos, token)

    # --- helpers ---------------------------------------------------------------------

    @staticmethod
    def _require(conn: Connection, trace_id: str) -> int:
        experiment_id = conn.execute(
            sa.select(traces.c.experiment_id).where(
                traces.c.trace_id == trace_id, traces.c.deleted_time.is_(None)
            )
        ).scalar()
        if experiment_id is None:
            raise ResourceDoesNotExist(f"Trace with ID '{trace_id}' not found.")
        return int(experiment_id)

    def _write_retrying(self, write: Callable[[Connection], T]) -> T:
        """Run ``write`` in a transaction, again if it lost a race with a concurrent writer.

        The OTLP batches and the trace info of one trace arrive together from the client's
        export threads: two may create the same trace (a duplicate key) or deadlock on it
        (MySQL/MariaDB, PostgreSQL). Each retry starts over and sees the winner's row.
        """
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self.db.write() as conn:
                    return write(conn)
            except (IntegrityError, OperationalError) as exc:
                if attempt == WRITE_ATTEMPTS - 1 or not _is_race(exc):
                    raise
        raise AssertionError("unreachable")


def require_trace(conn: Connection, trace_id: str) -> int:
    """The experiment of a live trace, inside the caller's transaction."""
    return TraceStore._require(conn, trace_id)


def _mark_spans_location(conn: Connection, trace_id: str) -> None:
    """Tell clients the spans are here (``TRACKING_STORE``) once all of them are.

    The trace info counts its spans (``mlflow.trace.sizeStats``). While fewer have come
    by OTLP, the tag stays off, so the client uploads ``traces.json`` as well and reads
    come from that complete copy; the last OTLP batch turns the tag on. Before the info
    arrives any span counts as enough.
    """
    expected = _expected_spans(conn, trace_id)
    stored = conn.execute(
        sa.select(sa.func.count()).select_from(spans).where(spans.c.trace_id == trace_id)
    ).scalar_one()
    if stored and (expected is None or stored >= expected):
        _put(conn, trace_tags, trace_id, {SPANS_LOCATION_TAG: TRACKING_STORE})
    else:
        conn.execute(
            sa.delete(trace_tags).where(
                trace_tags.c.trace_id == trace_id, trace_tags.c.key == SPANS_LOCATION_TAG
            )
        )


def _expected_spans(conn: Connection, trace_id: str) -> int | None:
    raw = conn.execute(
        sa.select(trace_metadata.c.value).where(
            trace_metadata.c.trace_id == trace_id, trace_metadata.c.key == SIZE_STATS_METADATA
        )
    ).scalar()
    try:
        count = json.loads(raw)["num_spans"] if raw else None
    except (ValueError, TypeError, KeyError):
        return None
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def _is_race(exc: IntegrityError | OperationalError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    text = str(exc.orig).lower()
    return "deadlock" in text or "lock wait timeout" in text or "could not serialize" in text


def _json_list(text: str | None) -> list[Any]:
    try:
        value = json.loads(text) if text else []
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _check_trace_id(trace_id: str) -> None:
    if not trace_id:
        raise InvalidParameterValue("Missing value for required parameter 'trace_id'.")
    validate_length(trace_id, MAX_TRACE_ID_LENGTH, "trace_id")


def _check_tags(items: dict[str, str]) -> None:
    """Trace tag and metadata keys are free text (MLflow checks only their length)."""
    for key, value in items.items():
        if not key:
            raise InvalidParameterValue("Trace tag and metadata keys may not be empty.")
        validate_length(key, MAX_KEY_LENGTH, "key")
        validate_length(value, MAX_TAG_VALUE_LENGTH, f"value of '{key}'")


def _check_same_experiment(trace_id: str, stored: int, given: int) -> None:
    if stored != given:
        raise InvalidParameterValue(
            f"Trace '{trace_id}' belongs to experiment {stored}, not {given}."
        )


def _put(conn: Connection, table: sa.Table, trace_id: str, items: dict[str, str]) -> None:
    key_values.put(conn, table, "trace_id", trace_id, [KeyValue(k, v) for k, v in items.items()])


def _insert_from_spans(
    conn: Connection,
    experiment_id: int,
    by_trace: dict[str, list[SpanRecord]],
    roots: dict[str, RootSummary],
) -> None:
    """Create traces nobody has created yet, from their spans, in two statements."""
    trace_rows: list[dict[str, object]] = []
    tag_rows: list[dict[str, object]] = []
    for trace_id, items in by_trace.items():
        root = roots.get(trace_id)
        if root is None:
            start = min(item.start_time_ns for item in items) // 1_000_000
            values: dict[str, object] = {
                "request_time": start,
                "execution_duration": None,
                "state": "IN_PROGRESS",
                "request_preview": None,
                "response_preview": None,
            }
        else:
            values = _root_values(root)
        trace_rows.append(
            {"trace_id": trace_id, "experiment_id": experiment_id, "finalized": False, **values}
        )
        tags = {
            ARTIFACT_LOCATION_TAG: trace_artifact_location(experiment_id, trace_id),
            SPANS_LOCATION_TAG: TRACKING_STORE,
        }
        if root is not None:
            tags[TRACE_NAME_TAG] = root.name
        tag_rows += [{"trace_id": trace_id, "key": k, "value": v} for k, v in tags.items()]
    conn.execute(sa.insert(traces), trace_rows)
    conn.execute(sa.insert(trace_tags), tag_rows)


def _insert_spans(conn: Connection, items: Sequence[SpanRecord]) -> None:
    conn.execute(sa.insert(spans), [_span_row(item) for item in items])
    attribute_rows = [
        {"trace_id": item.trace_id, "span_id": item.span_id, "key": k, "value": v[:1000]}
        for item in items
        for k, v in dict(item.attributes).items()
    ]
    if attribute_rows:
        conn.execute(sa.insert(span_attributes), attribute_rows)


def _complete_from_root(conn: Connection, trace_id: str, root: RootSummary) -> None:
    conn.execute(
        sa.update(traces).where(traces.c.trace_id == trace_id).values(**_root_values(root))
    )
    _put(conn, trace_tags, trace_id, {TRACE_NAME_TAG: root.name})


def _root_values(root: RootSummary) -> dict[str, object]:
    return {
        "request_time": root.request_time,
        "execution_duration": root.execution_duration,
        "state": root.state,
        "request_preview": _preview(root.request_preview),
        "response_preview": _preview(root.response_preview),
    }


def _span_row(record: SpanRecord) -> dict[str, object]:
    return {
        "trace_id": record.trace_id,
        "span_id": record.span_id,
        "parent_span_id": record.parent_span_id,
        "name": record.name[:500],
        "span_type": record.span_type[:100],
        "status": record.status[:32],
        "start_time_ns": record.start_time_ns,
        "end_time_ns": record.end_time_ns,
        "content": record.content,
        "content_ref": record.content_ref,
    }
