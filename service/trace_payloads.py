"""Where span contents live: inline in the database, or in the artifact store when large.

A span's content (its OTLP proto3 JSON, with inputs, outputs and attributes) up to
``STRATUS_TRACE_SPAN_INLINE_BYTES`` is stored in ``spans.content``, where
``span.content LIKE`` searches it. A larger one is written to the artifact store at
``<experiment>/traces/<trace id>/spans/<span id>.json`` and the row keeps that path, so
the database stays small and a 10 MB LLM response costs one object. Reads put the two
back together; the client never sees the difference. ``stratus gc`` removes the files
with their trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from service.artifacts import ArtifactStore, artifact_path
from service.store.entities.traces import SpanRecord


def trace_folder(experiment_id: int, trace_id: str) -> str:
    """The artifact folder of one trace (client uploads go under ``artifacts/``)."""
    return f"{experiment_id}/traces/{trace_id}"


def offload_large(
    artifacts: ArtifactStore,
    experiment_id: int,
    records: Sequence[SpanRecord],
    inline_limit: int,
) -> list[SpanRecord]:
    """``records`` with every content over ``inline_limit`` bytes moved to the artifact store."""
    kept: list[SpanRecord] = []
    for record in records:
        data = (record.content or "").encode()
        if len(data) <= inline_limit:
            kept.append(record)
            continue
        ref = f"{trace_folder(experiment_id, record.trace_id)}/spans/{record.span_id}.json"
        writer = artifacts.open_write(artifact_path(ref))
        try:
            writer.write(data)
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        kept.append(replace(record, content=None, content_ref=ref))
    return kept


def span_contents(artifacts: ArtifactStore, records: Sequence[SpanRecord]) -> list[str]:
    """Each span's content, read back from the artifact store where it was offloaded."""
    contents: list[str] = []
    for record in records:
        if record.content is not None or not record.content_ref:
            contents.append(record.content or "{}")
            continue
        reader = artifacts.open_read(artifact_path(record.content_ref))
        contents.append(b"".join(reader.chunks()).decode())
    return contents
