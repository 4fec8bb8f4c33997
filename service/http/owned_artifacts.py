"""Artifacts addressed by their owner (a run, a logged model, a model version), not by path.

MLflow's older and UI-facing artifact endpoints: ``artifacts/list`` (the documented REST
listing the Java and R clients use), ``/get-artifact``, ``/model-versions/get-artifact``,
the UI's ``upload-artifact`` and the logged-model file browser. Each resolves the owner's
``mlflow-artifacts:`` location to a path under the artifact root, then joins the
client's relative path, checked by :func:`artifact_path` like every other path.
"""

from __future__ import annotations

import posixpath

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from service.artifacts import ArtifactPath, artifact_path, proxied_path
from service.errors import BadRequest, InvalidParameterValue, RequestTooLarge
from service.http.artifacts import send_file, store_bytes
from service.http.context import blocking, store
from service.http.messages.registry import VersionRef
from service.http.messages.runs import RunMessage
from service.http.parsing import Message, Text, parse_query, read_body
from service.http.responses import ok

#: MLflow's limit on one upload through the UI.
MAX_UI_UPLOAD_BYTES = 10 * 1024 * 1024


class ListRunArtifacts(RunMessage):
    path: Text | None = None
    page_token: Text | None = None


class RunArtifact(RunMessage):
    path: Text


class ModelVersionArtifact(VersionRef):
    path: Text


class UploadArtifact(Message):
    run_uuid: Text | None = None
    path: Text | None = None


class LoggedModelDirectory(Message):
    artifact_directory_path: Text | None = None


class LoggedModelFile(Message):
    artifact_file_path: Text | None = None


def under(location: str, relative: str | None) -> ArtifactPath:
    """``relative`` (a client's path) inside the artifact ``location`` of its owner."""
    root = proxied_path(location)
    if root is None:
        raise InvalidParameterValue(
            f"The artifacts at {location!r} are not stored by this server; "
            "read them from that location directly."
        )
    if not relative:
        return root
    return artifact_path(posixpath.join(root, artifact_path(relative)))


async def _listing(request: Request, location: str, relative: str | None) -> Response:
    """MLflow's ``ListArtifacts`` answer: paths relative to the owner's root, and the root."""
    entries = await blocking(request.app.state.artifacts.list, under(location, relative))
    files = []
    for entry in entries:
        path = posixpath.join(relative, entry.name) if relative else entry.name
        files.append(
            {"path": path, "is_dir": True}
            if entry.is_dir
            else {"path": path, "is_dir": False, "file_size": entry.size}
        )
    return ok({"root_uri": location, "files": files})


async def list_run_artifacts(request: Request) -> Response:
    """``GET artifacts/list``: a run's files, one directory at a time (no paging needed)."""
    msg = parse_query(request, ListRunArtifacts)
    run = await blocking(store(request).runs.get, msg.run)
    return await _listing(request, run.info.artifact_uri, msg.path)


async def get_run_artifact(request: Request) -> Response:
    """``GET /get-artifact?run_id=&path=``: one file of a run."""
    msg = parse_query(request, RunArtifact)
    run = await blocking(store(request).runs.get, msg.run)
    return await send_file(request, under(run.info.artifact_uri, msg.path))


async def get_model_version_artifact(request: Request) -> Response:
    """``GET /model-versions/get-artifact?name=&version=&path=``."""
    msg = parse_query(request, ModelVersionArtifact)
    location = await blocking(store(request).model_versions.download_uri, msg.name, msg.version)
    return await send_file(request, under(location, msg.path))


async def upload_run_artifact(request: Request) -> Response:
    """``POST upload-artifact?run_uuid=&path=``: the UI's upload of one file (up to 10 MB).

    The body is read whole before anything is written, as MLflow does: it is small, and
    an empty or oversized upload then leaves nothing behind.
    """
    msg = parse_query(request, UploadArtifact)
    if not msg.run_uuid:
        raise InvalidParameterValue("Request must specify run_uuid.")
    if not msg.path:
        raise InvalidParameterValue("Request must specify path.")
    target = artifact_path(msg.path)
    try:
        data = await read_body(request, MAX_UI_UPLOAD_BYTES)
    except RequestTooLarge:
        raise InvalidParameterValue("Artifact size is too large. Max size is 10MB.") from None
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is listening any more
    if not data:
        raise InvalidParameterValue("Request must specify data.")
    run = await blocking(store(request).runs.get, msg.run_uuid)
    await store_bytes(request, under(run.info.artifact_uri, target), data)
    return Response(status_code=200)


async def list_logged_model_artifacts(request: Request) -> Response:
    msg = parse_query(request, LoggedModelDirectory)
    model = await blocking(store(request).logged_models.get, request.path_params["model_id"])
    return await _listing(request, model.artifact_location, msg.artifact_directory_path)


async def get_logged_model_artifact(request: Request) -> Response:
    msg = parse_query(request, LoggedModelFile)
    if not msg.artifact_file_path:
        raise BadRequest('Request must include the "artifact_file_path" query parameter.')
    target = artifact_path(msg.artifact_file_path)
    model = await blocking(store(request).logged_models.get, request.path_params["model_id"])
    return await send_file(request, under(model.artifact_location, target))


#: Under the tracking API prefixes.
api_routes = [
    Route("/artifacts/list", list_run_artifacts, methods=["GET"]),
    Route("/upload-artifact", upload_run_artifact, methods=["POST"]),
    Route(
        "/logged-models/{model_id}/artifacts/directories",
        list_logged_model_artifacts,
        methods=["GET"],
    ),
    Route("/logged-models/{model_id}/artifacts/files", get_logged_model_artifact, methods=["GET"]),
]
#: At the root, where MLflow's UI fetches files from.
root_routes = [
    Route("/get-artifact", get_run_artifact, methods=["GET"]),
    Route("/model-versions/get-artifact", get_model_version_artifact, methods=["GET"]),
]
