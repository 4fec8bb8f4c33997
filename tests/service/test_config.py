"""The settings contract: environment names, precedence, and the documentation of each."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def env_names() -> list[str]:
    names = []
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if alias is not None and hasattr(alias, "choices"):
            names.extend(str(choice) for choice in alias.choices)
        else:
            names.append(f"STRATUS_{field_name.upper()}")
    return names


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text()
    missing = [name for name in env_names() if f"`{name}`" not in text]
    assert missing == []


def test_environment_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATUS_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("STRATUS_ARTIFACT_ROOT", "gs://bucket/prefix")
    monkeypatch.setenv("STRATUS_CLOUD_SQL_INSTANCE", "proj:region:inst")
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("STRATUS_LOG_FORMAT", "JSON")
    settings = Settings()
    assert settings.resolved_database_url == "postgresql+psycopg://u@h/db"
    assert settings.resolved_artifact_root == "gs://bucket/prefix"
    assert settings.cloud_sql_instance == "proj:region:inst"
    assert settings.port == 8080
    assert settings.log_format == "json"


def test_flags_override_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8080")
    assert Settings(port=9000).port == 9000


def test_embedded_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in env_names():
        monkeypatch.delenv(name, raising=False)
    settings = Settings(data_dir=tmp_path)
    assert settings.uses_embedded_database
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'stratus.db'}"
    assert settings.resolved_artifact_root == str(tmp_path / "artifacts")
