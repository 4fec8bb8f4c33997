"""The model registry's records as MLflow's server sends them."""

from __future__ import annotations

from typing import Any

from service.http.wire.proto3 import compact, key_values
from service.store.entities.registry import ModelVersion, RegisteredModel


def model_version_json(v: ModelVersion) -> dict[str, Any]:
    """As MLflow's server sends it: ``description`` and ``run_link`` are always present."""
    shaped = compact(
        {
            "name": v.name,
            "version": str(v.version),
            "creation_timestamp": v.creation_time,
            "last_updated_timestamp": v.last_updated_time,
            "user_id": v.user_id,
            "current_stage": v.current_stage,
            "source": v.source,
            "run_id": v.run_id,
            "status": v.status,
            "status_message": v.status_message,
            "tags": key_values(v.tags),
            "aliases": v.aliases,
            "model_id": v.model_id,
        }
    )
    return {**shaped, "description": v.description or "", "run_link": v.run_link or ""}


def registered_model_json(m: RegisteredModel) -> dict[str, Any]:
    return compact(
        {
            "name": m.name,
            "creation_timestamp": m.creation_time,
            "last_updated_timestamp": m.last_updated_time,
            "description": m.description,
            "latest_versions": [model_version_json(v) for v in m.latest_versions],
            "tags": key_values(m.tags),
            "aliases": [{"alias": a.alias, "version": str(a.version)} for a in m.aliases],
        }
    )
