"""Assessments on traces: feedback and expectations, created, read, updated, deleted.

An assessment can override an earlier one on the same trace (``override_feedback``):
the earlier one stays but turns invalid, and is valid again if its override is deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from service.errors import InvalidParameterValue, ResourceDoesNotExist
from service.store.any_of import any_of
from service.store.clock import now_ms
from service.store.db import Database
from service.store.entities.traces import Assessment
from service.store.tables import Assessment as AssessmentRow
from service.store.tables import Trace, table_of
from service.store.validation import MAX_KEY_LENGTH, validate_length

assessments = table_of(AssessmentRow)
traces = table_of(Trace)

KINDS = ("feedback", "expectation")


def new_assessment_id() -> str:
    return f"a-{uuid.uuid4().hex}"


class AssessmentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        trace_id: str,
        *,
        name: str,
        kind: str,
        body: Mapping[str, Any],
        overrides: str | None = None,
        valid: bool = True,
    ) -> Assessment:
        _check(name, kind)
        now = now_ms()
        assessment_id = new_assessment_id()
        with self.db.write() as conn:
            _require_trace(conn, trace_id)
            if overrides:
                _get(conn, trace_id, overrides)
                _set_valid(conn, overrides, False)
            conn.execute(
                sa.insert(assessments).values(
                    assessment_id=assessment_id,
                    trace_id=trace_id,
                    name=name,
                    kind=kind,
                    valid=valid,
                    overrides=overrides or None,
                    create_time=now,
                    last_update_time=now,
                    payload=orjson.dumps(dict(body)).decode(),
                )
            )
            return _get(conn, trace_id, assessment_id)

    def get(self, trace_id: str, assessment_id: str) -> Assessment:
        with self.db.read() as conn:
            return _get(conn, trace_id, assessment_id)

    def update(
        self,
        trace_id: str,
        assessment_id: str,
        *,
        name: str | None = None,
        kind: str | None = None,
        changes: Mapping[str, Any] | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Assessment:
        """Replace ``name``, the value (``kind`` with its body key), or other body fields;
        ``metadata`` is merged into the existing metadata."""
        with self.db.write() as conn:
            current = _get(conn, trace_id, assessment_id)
            new_name = current.name if name is None else name
            new_kind = current.kind if kind is None else kind
            _check(new_name, new_kind)
            body = dict(current.body)
            if kind is not None and kind != current.kind:
                body.pop(current.kind, None)
            body.update(changes or {})
            if metadata is not None:
                body["metadata"] = {**body.get("metadata", {}), **metadata}
            conn.execute(
                sa.update(assessments)
                .where(assessments.c.assessment_id == assessment_id)
                .values(
                    name=new_name,
                    kind=new_kind,
                    last_update_time=now_ms(),
                    payload=orjson.dumps(body).decode(),
                )
            )
            return _get(conn, trace_id, assessment_id)

    def delete(self, trace_id: str, assessment_id: str) -> None:
        with self.db.write() as conn:
            current = _get(conn, trace_id, assessment_id)
            conn.execute(sa.delete(assessments).where(assessments.c.assessment_id == assessment_id))
            if current.overrides:
                _set_valid(conn, current.overrides, True)


def load_assessments(conn: Connection, trace_ids: Sequence[str]) -> dict[str, list[Assessment]]:
    """``trace id -> [Assessment]`` (oldest first) for ``trace_ids``, in one query."""
    result: dict[str, list[Assessment]] = {}
    if not trace_ids:
        return result
    rows = conn.execute(
        sa.select(assessments)
        .where(any_of(assessments.c.trace_id, list(trace_ids)))
        .order_by(assessments.c.create_time, assessments.c.assessment_id)
    ).mappings()
    for row in rows:
        result.setdefault(row["trace_id"], []).append(_entity(row))
    return result


def _check(name: str, kind: str) -> None:
    if not name:
        raise InvalidParameterValue("Missing value for required parameter 'assessment_name'.")
    validate_length(name, MAX_KEY_LENGTH, "assessment_name")
    if kind not in KINDS:
        raise InvalidParameterValue(
            "An assessment must have exactly one of feedback or expectation."
        )


def _require_trace(conn: Connection, trace_id: str) -> None:
    found = conn.execute(
        sa.select(traces.c.trace_id).where(
            traces.c.trace_id == trace_id, traces.c.deleted_time.is_(None)
        )
    ).first()
    if found is None:
        raise ResourceDoesNotExist(f"Trace with ID '{trace_id}' not found.")


def _get(conn: Connection, trace_id: str, assessment_id: str) -> Assessment:
    row = (
        conn.execute(
            sa.select(assessments)
            .join(traces, traces.c.trace_id == assessments.c.trace_id)
            .where(
                assessments.c.assessment_id == assessment_id,
                assessments.c.trace_id == trace_id,
                traces.c.deleted_time.is_(None),
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise ResourceDoesNotExist(
            f"Assessment with ID '{assessment_id}' not found for trace '{trace_id}'."
        )
    return _entity(row)


def _set_valid(conn: Connection, assessment_id: str, valid: bool) -> None:
    conn.execute(
        sa.update(assessments)
        .where(assessments.c.assessment_id == assessment_id)
        .values(valid=valid)
    )


def _entity(row: sa.RowMapping) -> Assessment:
    return Assessment(
        assessment_id=row["assessment_id"],
        trace_id=row["trace_id"],
        name=row["name"],
        kind=row["kind"],
        valid=bool(row["valid"]),
        overrides=row["overrides"],
        create_time=row["create_time"],
        last_update_time=row["last_update_time"],
        body=orjson.loads(row["payload"]),
    )
