"""``/api/2.0/mlflow-artifacts/artifacts*``: the proxied artifact API.

Runs and logged models get ``mlflow-artifacts:`` URIs, so the client sends every file
through here and never needs storage credentials. Bodies stream both ways in bounded
chunks; a file of any size passes with flat memory. Paths are addresses under the
artifact root, checked by :func:`service.artifacts.artifact_path` before any I/O.
"""

from __future__ import annotations

import mimetypes
import posixpath
import unicodedata
from urllib.parse import quote

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from service.artifacts import ArtifactPath, ArtifactStore, ArtifactWriter, artifact_path
from service.errors import InvalidParameterValue
from service.http import compression
from service.http.context import blocking
from service.http.responses import ok

#: Upload bytes are gathered up to this size before each (threaded) write.
WRITE_BUFFER_BYTES = 1024 * 1024

#: Extensions (or whole names) served as text/plain, as MLflow's server does.
TEXT_TYPES = frozenset(
    {
        *("txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop"),
        *("hocon", "toml", "yaml", "yml", "xml", "json", "js", "py", "py3", "csv", "tsv"),
        *("md", "rst", "ipynb", "MLmodel", "mlproject"),
        # MLflow 3.17 lists the project file as "mlproject", so its "MLproject" goes out as
        # application/octet-stream; it is YAML text, and shown as text here (docs/compatibility.md).
        "MLproject",
    }
)


def _artifacts(request: Request) -> ArtifactStore:
    found: ArtifactStore = request.app.state.artifacts
    return found


async def upload_artifact(request: Request) -> Response:
    try:
        await store_body(request, artifact_path(request.path_params["artifact_path"]))
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is listening any more
    return Response(status_code=200)


async def download_artifact(request: Request) -> Response:
    return await send_file(request, artifact_path(request.path_params["artifact_path"]))


async def store_body(request: Request, path: ArtifactPath) -> None:
    """Stream the request body to ``path``; nothing appears there unless all of it arrived."""
    writer = await blocking(_artifacts(request).open_write, path)
    try:
        await _receive(request, writer)
    except BaseException:
        await _abort(writer)
        raise


async def store_bytes(request: Request, path: ArtifactPath, data: bytes) -> None:
    """Write ``data`` (a body already read, and bounded) to ``path``."""
    writer = await blocking(_artifacts(request).open_write, path)
    try:
        await blocking(writer.write, data)
        await blocking(writer.commit)
    except BaseException:
        await _abort(writer)
        raise


async def send_file(request: Request, path: ArtifactPath) -> Response:
    """One file, streamed as an attachment with MLflow's content type for its name."""
    reader = await blocking(_artifacts(request).open_read, path)
    name = posixpath.basename(path)
    headers = {
        # Set here, not as media_type: Starlette would add a charset MLflow does not send.
        "Content-Type": media_type(name),
        "Content-Length": str(reader.size),
        "Content-Disposition": content_disposition(name),
        "X-Content-Type-Options": "nosniff",
    }
    if reader.size < compression.MINIMUM_BYTES:
        # In one message, so it goes as it is: gzip would cost more than it saves.
        body = await blocking(b"".join, reader.chunks())
        return Response(body, headers=headers)
    return StreamingResponse(reader.chunks(), headers=headers)


async def list_artifacts(request: Request) -> Response:
    path = artifact_path(request.query_params.get("path", ""), allow_root=True)
    entries = await blocking(_artifacts(request).list, path)
    files = [
        {"path": e.name, "is_dir": True}
        if e.is_dir
        else {"path": e.name, "is_dir": False, "file_size": e.size}
        for e in entries
    ]
    return ok({"files": files})


async def delete_artifact(request: Request) -> Response:
    path = artifact_path(request.path_params["artifact_path"], allow_root=True)
    if not path:
        raise InvalidParameterValue("Refusing to delete the whole artifact root.")
    await blocking(_artifacts(request).delete, path)
    return ok()


async def _receive(request: Request, writer: ArtifactWriter) -> None:
    buffer = bytearray()
    async for chunk in request.stream():
        buffer += chunk
        if len(buffer) >= WRITE_BUFFER_BYTES:
            await blocking(writer.write, bytes(buffer))
            buffer.clear()
    if buffer:
        await blocking(writer.write, bytes(buffer))
    await blocking(writer.commit)


async def _abort(writer: ArtifactWriter) -> None:
    with anyio.CancelScope(shield=True):
        await blocking(writer.abort)


def media_type(name: str) -> str:
    """MLflow's type for a file name: text/plain (no charset) for text formats, else guessed."""
    extension = posixpath.splitext(name)[1].lstrip(".") or name
    if extension in TEXT_TYPES:
        return "text/plain"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def content_disposition(name: str) -> str:
    """``attachment`` (never rendered inline on our origin), with an RFC 5987 UTF-8 name."""
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = "".join(c for c in fallback if c.isprintable() and c not in '"\\') or "download"
    if fallback == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


routes = [
    Route("/artifacts", list_artifacts, methods=["GET"]),
    Route("/artifacts/{artifact_path:path}", download_artifact, methods=["GET"]),
    Route("/artifacts/{artifact_path:path}", upload_artifact, methods=["PUT"]),
    Route("/artifacts/{artifact_path:path}", delete_artifact, methods=["DELETE"]),
]
