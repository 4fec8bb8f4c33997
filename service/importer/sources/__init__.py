"""Sources: where imported history comes from, chosen from the SOURCE argument."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from service.config import ClientCredentials
from service.errors import InvalidParameterValue
from service.importer.sources.base import ArtifactsUnavailable, ArtifactTree, Source

#: Drivers that ship with Stratus, for URLs written the way MLflow documents them.
DEFAULT_DRIVERS = {"postgresql": "postgresql+psycopg", "mysql": "mysql+pymysql"}


def open_source(spec: str, *, artifacts_root: str | None, credentials: ClientCredentials) -> Source:
    """``http(s)://`` → a server; a SQLAlchemy URL or ``*.db`` file → an MLflow database;
    a folder or ``file:`` URI → an ``mlruns/`` file store."""
    scheme = urlparse(spec).scheme
    if scheme in ("http", "https"):
        from service.importer.sources.server import ServerSource

        return ServerSource(spec, credentials)
    if scheme in ("", "file"):
        path = Path(unquote(urlparse(spec).path) if scheme == "file" else spec).expanduser()
        if path.is_file():
            return _database(f"sqlite:///{path.resolve()}", artifacts_root)
        if not path.is_dir():
            raise InvalidParameterValue(f"No mlruns folder or database file at {path}")
        from service.importer.sources.filestore import FileStoreSource

        return FileStoreSource(path, artifacts_root)
    return _database(spec, artifacts_root)


def _database(url: str, artifacts_root: str | None) -> Source:
    from service.importer.sources.database import DatabaseSource

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InvalidParameterValue(f"Not a database URL: {url}") from exc
    driver = DEFAULT_DRIVERS.get(parsed.drivername)
    if driver:
        url = parsed.set(drivername=driver).render_as_string(hide_password=False)
    return DatabaseSource(url, artifacts_root)


__all__ = ["ArtifactTree", "ArtifactsUnavailable", "Source", "open_source"]
