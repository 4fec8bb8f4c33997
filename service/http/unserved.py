"""The routes of ``mlflow server`` 3.17 that Stratus does not serve, each with its reason.

``tests/compat/test_route_enumeration.py`` takes every route the pinned mlflow serves
(``mlflow.server.handlers`` with its protos' services, and the FastAPI routers) and checks
each against the running server: it is served, or it is listed here. It fails for a
route nobody has looked at, for a listed route that is now served, and for a listed route
mlflow no longer has. ``docs/compatibility.md`` is generated from the same data.

A listed route answers a JSON ``ENDPOINT_NOT_FOUND`` naming its reason, never an HTML
page: that is the code on which the mlflow client's fallbacks depend.

To serve one of these, build it, then delete its line (the test names the lines to delete).
Routes are written as ``"METHOD /path"`` with Starlette's ``{param}`` placeholders.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from service.http.parsing import read_body
from service.http.responses import error_body

TRACE_API_V2 = (
    "MLflow 2's trace API: the 3.x client writes traces through /v1/traces and the 3.0 "
    "API, and reads them through the 3.0 API, which are served (docs/tracing.md)"
)
TRACE_UI = (
    "endpoints only MLflow's own web UI calls for traces (trace metrics, filter correlation, "
    "the trace artifact, Databricks' online and unified traces): not served"
)
GENAI_DATASETS = "GenAI evaluation datasets (records built from traces): not served yet"
GENAI_EVALUATION = (
    "GenAI evaluation (registered scorers, issues, label schemas, review queues): not served yet"
)
PROMPT_OPTIMIZATION = (
    "prompt optimization and the prompt lab run LLM calls as server-side jobs; Stratus runs no "
    "jobs and holds no model-provider keys"
)
JOBS = (
    "server-side jobs (GenAI evaluation, scorer and issue-detection runs): Stratus runs no "
    "background jobs and holds no model-provider keys"
)
GATEWAY = (
    "AI Gateway (LLM endpoints, provider secrets, budgets, guardrails): an LLM proxy, not part "
    "of experiment tracking; run MLflow's gateway separately if you need one"
)
ASSISTANT = "AI assistant: drives a coding agent on the server host (localhost-only in MLflow)"
MCP = "MCP server registry: outside experiment tracking and the model registry"
WEBHOOKS = "model-registry webhooks: not served yet (Stratus makes no outbound calls)"
WORKSPACES = (
    "workspaces: one Stratus server is one team's workspace; server-info reports "
    "workspaces_enabled=false, so clients do not call these"
)
DIRECT_UPLOADS = (
    "presigned and multipart direct-to-storage transfers: Stratus streams artifacts through the "
    "proxied API with flat memory; server-info reports multipart disabled, so the client never "
    "calls these"
)
GRAPHQL = "GraphQL API of MLflow's web UI: Stratus's UI uses the REST API"
UI_BUNDLE = "MLflow's web UI bundle: Stratus serves its own UI (see docs/compatibility.md)"
TELEMETRY = "usage telemetry of MLflow's web UI: Stratus collects none"
DEMO = "demo-data generator of MLflow's own UI"
MALFORMED = (
    "registered by mistake in MLflow 3.17 (no '/' after '2.0'); the endpoint is served at "
    "/ajax-api/2.0/mlflow/experiments/search-datasets"
)

#: ``"METHOD /path"`` -> why Stratus does not serve it.
UNSERVED: dict[str, str] = {
    "GET /ajax-api/2.0/mlflow/get-online-trace-details": TRACE_UI,
    "GET /ajax-api/2.0/mlflow/get-trace-artifact": TRACE_UI,
    "GET /ajax-api/2.0/mlflow/traces": TRACE_API_V2,
    "POST /ajax-api/2.0/mlflow/traces": TRACE_API_V2,
    "PATCH /ajax-api/2.0/mlflow/traces/{request_id}": TRACE_API_V2,
    "GET /ajax-api/2.0/mlflow/traces/{request_id}/info": TRACE_API_V2,
    "GET /ajax-api/2.0/mlflow/unified-traces": TRACE_UI,
    "GET /ajax-api/3.0/mlflow/get-trace-artifact": TRACE_UI,
    "POST /ajax-api/3.0/mlflow/traces/calculate-filter-correlation": TRACE_UI,
    "POST /ajax-api/3.0/mlflow/traces/metrics": TRACE_UI,
    "GET /api/2.0/mlflow/get-online-trace-details": TRACE_UI,
    "GET /api/2.0/mlflow/traces": TRACE_API_V2,
    "POST /api/2.0/mlflow/traces": TRACE_API_V2,
    "PATCH /api/2.0/mlflow/traces/{request_id}": TRACE_API_V2,
    "GET /api/2.0/mlflow/traces/{request_id}/info": TRACE_API_V2,
    "GET /api/2.0/mlflow/unified-traces": TRACE_UI,
    "POST /api/3.0/mlflow/traces/calculate-filter-correlation": TRACE_UI,
    "POST /api/3.0/mlflow/traces/metrics": TRACE_UI,
    "POST /ajax-api/3.0/mlflow/datasets/create": GENAI_DATASETS,
    "GET /ajax-api/3.0/mlflow/datasets/search": GENAI_DATASETS,
    "POST /ajax-api/3.0/mlflow/datasets/search": GENAI_DATASETS,
    "DELETE /ajax-api/3.0/mlflow/datasets/{dataset_id}": GENAI_DATASETS,
    "GET /ajax-api/3.0/mlflow/datasets/{dataset_id}": GENAI_DATASETS,
    "POST /ajax-api/3.0/mlflow/datasets/{dataset_id}/add-experiments": GENAI_DATASETS,
    "GET /ajax-api/3.0/mlflow/datasets/{dataset_id}/experiment-ids": GENAI_DATASETS,
    "DELETE /ajax-api/3.0/mlflow/datasets/{dataset_id}/records": GENAI_DATASETS,
    "GET /ajax-api/3.0/mlflow/datasets/{dataset_id}/records": GENAI_DATASETS,
    "POST /ajax-api/3.0/mlflow/datasets/{dataset_id}/records": GENAI_DATASETS,
    "POST /ajax-api/3.0/mlflow/datasets/{dataset_id}/remove-experiments": GENAI_DATASETS,
    "PATCH /ajax-api/3.0/mlflow/datasets/{dataset_id}/tags": GENAI_DATASETS,
    "DELETE /ajax-api/3.0/mlflow/datasets/{dataset_id}/tags/{key}": GENAI_DATASETS,
    "POST /api/3.0/mlflow/datasets/create": GENAI_DATASETS,
    "GET /api/3.0/mlflow/datasets/search": GENAI_DATASETS,
    "POST /api/3.0/mlflow/datasets/search": GENAI_DATASETS,
    "DELETE /api/3.0/mlflow/datasets/{dataset_id}": GENAI_DATASETS,
    "GET /api/3.0/mlflow/datasets/{dataset_id}": GENAI_DATASETS,
    "POST /api/3.0/mlflow/datasets/{dataset_id}/add-experiments": GENAI_DATASETS,
    "GET /api/3.0/mlflow/datasets/{dataset_id}/experiment-ids": GENAI_DATASETS,
    "DELETE /api/3.0/mlflow/datasets/{dataset_id}/records": GENAI_DATASETS,
    "GET /api/3.0/mlflow/datasets/{dataset_id}/records": GENAI_DATASETS,
    "POST /api/3.0/mlflow/datasets/{dataset_id}/records": GENAI_DATASETS,
    "POST /api/3.0/mlflow/datasets/{dataset_id}/remove-experiments": GENAI_DATASETS,
    "PATCH /api/3.0/mlflow/datasets/{dataset_id}/tags": GENAI_DATASETS,
    "DELETE /api/3.0/mlflow/datasets/{dataset_id}/tags/{key}": GENAI_DATASETS,
    "POST /ajax-api/3.0/mlflow/issues": GENAI_EVALUATION,
    "POST /ajax-api/3.0/mlflow/issues/search": GENAI_EVALUATION,
    "GET /ajax-api/3.0/mlflow/issues/{issue_id}": GENAI_EVALUATION,
    "PATCH /ajax-api/3.0/mlflow/issues/{issue_id}": GENAI_EVALUATION,
    "POST /ajax-api/3.0/mlflow/label-schemas/create": GENAI_EVALUATION,
    "DELETE /ajax-api/3.0/mlflow/label-schemas/delete": GENAI_EVALUATION,
    "GET /ajax-api/3.0/mlflow/label-schemas/get": GENAI_EVALUATION,
    "GET /ajax-api/3.0/mlflow/label-schemas/get-by-name": GENAI_EVALUATION,
    "GET /ajax-api/3.0/mlflow/label-schemas/list": GENAI_EVALUATION,
    "PATCH /ajax-api/3.0/mlflow/label-schemas/update": GENAI_EVALUATION,
    "POST /ajax-api/3.0/mlflow/review-queues/create": GENAI_EVALUATION,
    "POST /ajax-api/3.0/mlflow/review-queues/delete": GENAI_EVALUATION,
    "GET /ajax-api/3.0/mlflow/review-queues/get": GENAI_EVALUATION,
    "GET /ajax-api/3.0/mlflow/review-queues/get-by-name": GENAI_EVALUATION,
    "POST /ajax-api/3.0/mlflow/review-queues/get-or-create-user": GENAI_EVALUATION,
    "POST /ajax-api/3.0/mlflow/review-queues/items/add": GENAI_EVALUATION,
    "GET /ajax-api/3.0/mlflow/review-queues/items/list": GENAI_EVALUATION,
    "POST /ajax-api/3.0/mlflow/review-queues/items/remove": GENAI_EVALUATION,
    "POST /ajax-api/3.0/mlflow/review-queues/items/set-status": GENAI_EVALUATION,
    "GET /ajax-api/3.0/mlflow/review-queues/list": GENAI_EVALUATION,
    "POST /ajax-api/3.0/mlflow/review-queues/update": GENAI_EVALUATION,
    "DELETE /ajax-api/3.0/mlflow/scorers/delete": GENAI_EVALUATION,
    "GET /ajax-api/3.0/mlflow/scorers/get": GENAI_EVALUATION,
    "GET /ajax-api/3.0/mlflow/scorers/list": GENAI_EVALUATION,
    "PUT /ajax-api/3.0/mlflow/scorers/online-config": GENAI_EVALUATION,
    "GET /ajax-api/3.0/mlflow/scorers/online-configs": GENAI_EVALUATION,
    "POST /ajax-api/3.0/mlflow/scorers/register": GENAI_EVALUATION,
    "GET /ajax-api/3.0/mlflow/scorers/versions": GENAI_EVALUATION,
    "POST /api/3.0/mlflow/issues": GENAI_EVALUATION,
    "POST /api/3.0/mlflow/issues/search": GENAI_EVALUATION,
    "GET /api/3.0/mlflow/issues/{issue_id}": GENAI_EVALUATION,
    "PATCH /api/3.0/mlflow/issues/{issue_id}": GENAI_EVALUATION,
    "POST /api/3.0/mlflow/label-schemas/create": GENAI_EVALUATION,
    "DELETE /api/3.0/mlflow/label-schemas/delete": GENAI_EVALUATION,
    "GET /api/3.0/mlflow/label-schemas/get": GENAI_EVALUATION,
    "GET /api/3.0/mlflow/label-schemas/get-by-name": GENAI_EVALUATION,
    "GET /api/3.0/mlflow/label-schemas/list": GENAI_EVALUATION,
    "PATCH /api/3.0/mlflow/label-schemas/update": GENAI_EVALUATION,
    "POST /api/3.0/mlflow/review-queues/create": GENAI_EVALUATION,
    "POST /api/3.0/mlflow/review-queues/delete": GENAI_EVALUATION,
    "GET /api/3.0/mlflow/review-queues/get": GENAI_EVALUATION,
    "GET /api/3.0/mlflow/review-queues/get-by-name": GENAI_EVALUATION,
    "POST /api/3.0/mlflow/review-queues/get-or-create-user": GENAI_EVALUATION,
    "POST /api/3.0/mlflow/review-queues/items/add": GENAI_EVALUATION,
    "GET /api/3.0/mlflow/review-queues/items/list": GENAI_EVALUATION,
    "POST /api/3.0/mlflow/review-queues/items/remove": GENAI_EVALUATION,
    "POST /api/3.0/mlflow/review-queues/items/set-status": GENAI_EVALUATION,
    "GET /api/3.0/mlflow/review-queues/list": GENAI_EVALUATION,
    "POST /api/3.0/mlflow/review-queues/update": GENAI_EVALUATION,
    "DELETE /api/3.0/mlflow/scorers/delete": GENAI_EVALUATION,
    "GET /api/3.0/mlflow/scorers/get": GENAI_EVALUATION,
    "GET /api/3.0/mlflow/scorers/list": GENAI_EVALUATION,
    "PUT /api/3.0/mlflow/scorers/online-config": GENAI_EVALUATION,
    "GET /api/3.0/mlflow/scorers/online-configs": GENAI_EVALUATION,
    "POST /api/3.0/mlflow/scorers/register": GENAI_EVALUATION,
    "GET /api/3.0/mlflow/scorers/versions": GENAI_EVALUATION,
    "POST /ajax-api/2.0/mlflow/runs/create-promptlab-run": PROMPT_OPTIMIZATION,
    "POST /ajax-api/3.0/mlflow/prompt-optimization/jobs": PROMPT_OPTIMIZATION,
    "GET /ajax-api/3.0/mlflow/prompt-optimization/jobs/search": PROMPT_OPTIMIZATION,
    "POST /ajax-api/3.0/mlflow/prompt-optimization/jobs/search": PROMPT_OPTIMIZATION,
    "DELETE /ajax-api/3.0/mlflow/prompt-optimization/jobs/{job_id}": PROMPT_OPTIMIZATION,
    "GET /ajax-api/3.0/mlflow/prompt-optimization/jobs/{job_id}": PROMPT_OPTIMIZATION,
    "POST /ajax-api/3.0/mlflow/prompt-optimization/jobs/{job_id}/cancel": PROMPT_OPTIMIZATION,
    "POST /api/3.0/mlflow/prompt-optimization/jobs": PROMPT_OPTIMIZATION,
    "GET /api/3.0/mlflow/prompt-optimization/jobs/search": PROMPT_OPTIMIZATION,
    "POST /api/3.0/mlflow/prompt-optimization/jobs/search": PROMPT_OPTIMIZATION,
    "DELETE /api/3.0/mlflow/prompt-optimization/jobs/{job_id}": PROMPT_OPTIMIZATION,
    "GET /api/3.0/mlflow/prompt-optimization/jobs/{job_id}": PROMPT_OPTIMIZATION,
    "POST /api/3.0/mlflow/prompt-optimization/jobs/{job_id}/cancel": PROMPT_OPTIMIZATION,
    "POST /ajax-api/3.0/jobs/": JOBS,
    "PATCH /ajax-api/3.0/jobs/cancel/{job_id}": JOBS,
    "POST /ajax-api/3.0/jobs/search": JOBS,
    "GET /ajax-api/3.0/jobs/{job_id}": JOBS,
    "POST /ajax-api/3.0/mlflow/genai/evaluate/invoke": JOBS,
    "POST /ajax-api/3.0/mlflow/issues/invoke": JOBS,
    "PATCH /ajax-api/3.0/mlflow/jobs/cancel/{job_id}": JOBS,
    "GET /ajax-api/3.0/mlflow/jobs/{job_id}": JOBS,
    "POST /ajax-api/3.0/mlflow/scorer/invoke": JOBS,
    "GET /ajax-api/2.0/mlflow/gateway-proxy": GATEWAY,
    "POST /ajax-api/2.0/mlflow/gateway-proxy": GATEWAY,
    "POST /ajax-api/3.0/mlflow/gateway/budgets/create": GATEWAY,
    "DELETE /ajax-api/3.0/mlflow/gateway/budgets/delete": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/budgets/get": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/budgets/list": GATEWAY,
    "POST /ajax-api/3.0/mlflow/gateway/budgets/update": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/budgets/windows": GATEWAY,
    "POST /ajax-api/3.0/mlflow/gateway/endpoints/bindings/create": GATEWAY,
    "DELETE /ajax-api/3.0/mlflow/gateway/endpoints/bindings/delete": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/endpoints/bindings/list": GATEWAY,
    "POST /ajax-api/3.0/mlflow/gateway/endpoints/create": GATEWAY,
    "DELETE /ajax-api/3.0/mlflow/gateway/endpoints/delete": GATEWAY,
    "DELETE /ajax-api/3.0/mlflow/gateway/endpoints/delete-tag": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/endpoints/get": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/endpoints/list": GATEWAY,
    "POST /ajax-api/3.0/mlflow/gateway/endpoints/models/attach": GATEWAY,
    "POST /ajax-api/3.0/mlflow/gateway/endpoints/models/detach": GATEWAY,
    "POST /ajax-api/3.0/mlflow/gateway/endpoints/set-tag": GATEWAY,
    "POST /ajax-api/3.0/mlflow/gateway/endpoints/update": GATEWAY,
    "POST /ajax-api/3.0/mlflow/gateway/guardrails/add-to-endpoint": GATEWAY,
    "POST /ajax-api/3.0/mlflow/gateway/guardrails/create": GATEWAY,
    "DELETE /ajax-api/3.0/mlflow/gateway/guardrails/delete": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/guardrails/get": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/guardrails/list": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/guardrails/list-for-endpoint": GATEWAY,
    "DELETE /ajax-api/3.0/mlflow/gateway/guardrails/remove-from-endpoint": GATEWAY,
    "PATCH /ajax-api/3.0/mlflow/gateway/guardrails/update-config": GATEWAY,
    "POST /ajax-api/3.0/mlflow/gateway/model-definitions/create": GATEWAY,
    "DELETE /ajax-api/3.0/mlflow/gateway/model-definitions/delete": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/model-definitions/get": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/model-definitions/list": GATEWAY,
    "POST /ajax-api/3.0/mlflow/gateway/model-definitions/update": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/provider-config": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/secrets/config": GATEWAY,
    "POST /ajax-api/3.0/mlflow/gateway/secrets/create": GATEWAY,
    "DELETE /ajax-api/3.0/mlflow/gateway/secrets/delete": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/secrets/get": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/secrets/list": GATEWAY,
    "POST /ajax-api/3.0/mlflow/gateway/secrets/update": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/supported-models": GATEWAY,
    "GET /ajax-api/3.0/mlflow/gateway/supported-providers": GATEWAY,
    "POST /api/3.0/mlflow/gateway/budgets/create": GATEWAY,
    "DELETE /api/3.0/mlflow/gateway/budgets/delete": GATEWAY,
    "GET /api/3.0/mlflow/gateway/budgets/get": GATEWAY,
    "GET /api/3.0/mlflow/gateway/budgets/list": GATEWAY,
    "POST /api/3.0/mlflow/gateway/budgets/update": GATEWAY,
    "GET /api/3.0/mlflow/gateway/budgets/windows": GATEWAY,
    "POST /api/3.0/mlflow/gateway/endpoints/bindings/create": GATEWAY,
    "DELETE /api/3.0/mlflow/gateway/endpoints/bindings/delete": GATEWAY,
    "GET /api/3.0/mlflow/gateway/endpoints/bindings/list": GATEWAY,
    "POST /api/3.0/mlflow/gateway/endpoints/create": GATEWAY,
    "DELETE /api/3.0/mlflow/gateway/endpoints/delete": GATEWAY,
    "DELETE /api/3.0/mlflow/gateway/endpoints/delete-tag": GATEWAY,
    "GET /api/3.0/mlflow/gateway/endpoints/get": GATEWAY,
    "GET /api/3.0/mlflow/gateway/endpoints/list": GATEWAY,
    "POST /api/3.0/mlflow/gateway/endpoints/models/attach": GATEWAY,
    "POST /api/3.0/mlflow/gateway/endpoints/models/detach": GATEWAY,
    "POST /api/3.0/mlflow/gateway/endpoints/set-tag": GATEWAY,
    "POST /api/3.0/mlflow/gateway/endpoints/update": GATEWAY,
    "POST /api/3.0/mlflow/gateway/guardrails/add-to-endpoint": GATEWAY,
    "POST /api/3.0/mlflow/gateway/guardrails/create": GATEWAY,
    "DELETE /api/3.0/mlflow/gateway/guardrails/delete": GATEWAY,
    "GET /api/3.0/mlflow/gateway/guardrails/get": GATEWAY,
    "GET /api/3.0/mlflow/gateway/guardrails/list": GATEWAY,
    "GET /api/3.0/mlflow/gateway/guardrails/list-for-endpoint": GATEWAY,
    "DELETE /api/3.0/mlflow/gateway/guardrails/remove-from-endpoint": GATEWAY,
    "PATCH /api/3.0/mlflow/gateway/guardrails/update-config": GATEWAY,
    "POST /api/3.0/mlflow/gateway/model-definitions/create": GATEWAY,
    "DELETE /api/3.0/mlflow/gateway/model-definitions/delete": GATEWAY,
    "GET /api/3.0/mlflow/gateway/model-definitions/get": GATEWAY,
    "GET /api/3.0/mlflow/gateway/model-definitions/list": GATEWAY,
    "POST /api/3.0/mlflow/gateway/model-definitions/update": GATEWAY,
    "POST /api/3.0/mlflow/gateway/secrets/create": GATEWAY,
    "DELETE /api/3.0/mlflow/gateway/secrets/delete": GATEWAY,
    "GET /api/3.0/mlflow/gateway/secrets/get": GATEWAY,
    "GET /api/3.0/mlflow/gateway/secrets/list": GATEWAY,
    "POST /api/3.0/mlflow/gateway/secrets/update": GATEWAY,
    "POST /gateway/anthropic/v1/messages": GATEWAY,
    "POST /gateway/gemini/v1beta/models/{endpoint_name}:generateContent": GATEWAY,
    "POST /gateway/gemini/v1beta/models/{endpoint_name}:streamGenerateContent": GATEWAY,
    "POST /gateway/mlflow/v1/chat/completions": GATEWAY,
    "GET /gateway/mlflow/v1/models": GATEWAY,
    "POST /gateway/openai/v1/chat/completions": GATEWAY,
    "POST /gateway/openai/v1/embeddings": GATEWAY,
    "POST /gateway/openai/v1/responses": GATEWAY,
    "POST /gateway/openai/v1/responses/compact": GATEWAY,
    "POST /gateway/proxy/{endpoint_name}/{path:path}": GATEWAY,
    "POST /gateway/typesafe/v1/systemone": GATEWAY,
    "POST /gateway/{endpoint_name}/mlflow/invocations": GATEWAY,
    "GET /ajax-api/3.0/mlflow/assistant/config": ASSISTANT,
    "PUT /ajax-api/3.0/mlflow/assistant/config": ASSISTANT,
    "POST /ajax-api/3.0/mlflow/assistant/message": ASSISTANT,
    "GET /ajax-api/3.0/mlflow/assistant/providers": ASSISTANT,
    "GET /ajax-api/3.0/mlflow/assistant/providers/{provider}/health": ASSISTANT,
    "GET /ajax-api/3.0/mlflow/assistant/providers/{provider}/models": ASSISTANT,
    "PATCH /ajax-api/3.0/mlflow/assistant/sessions/{session_id}": ASSISTANT,
    "POST /ajax-api/3.0/mlflow/assistant/sessions/{session_id}/permission": ASSISTANT,
    "GET /ajax-api/3.0/mlflow/assistant/sessions/{session_id}/stream": ASSISTANT,
    "POST /ajax-api/3.0/mlflow/assistant/sessions/{session_id}/tool-result": ASSISTANT,
    "POST /ajax-api/3.0/mlflow/assistant/skills/install": ASSISTANT,
    "GET /ajax-api/3.0/mlflow/mcp-servers": MCP,
    "POST /ajax-api/3.0/mlflow/mcp-servers": MCP,
    "GET /ajax-api/3.0/mlflow/mcp-servers/endpoints": MCP,
    "DELETE /ajax-api/3.0/mlflow/mcp-servers/{name:path}": MCP,
    "GET /ajax-api/3.0/mlflow/mcp-servers/{name:path}": MCP,
    "PATCH /ajax-api/3.0/mlflow/mcp-servers/{name:path}": MCP,
    "POST /ajax-api/3.0/mlflow/mcp-servers/{name:path}/aliases": MCP,
    "DELETE /ajax-api/3.0/mlflow/mcp-servers/{name:path}/aliases/{alias:path}": MCP,
    "GET /ajax-api/3.0/mlflow/mcp-servers/{name:path}/aliases/{alias:path}": MCP,
    "GET /ajax-api/3.0/mlflow/mcp-servers/{name:path}/endpoints": MCP,
    "POST /ajax-api/3.0/mlflow/mcp-servers/{name:path}/endpoints": MCP,
    "DELETE /ajax-api/3.0/mlflow/mcp-servers/{name:path}/endpoints/{endpoint_id}": MCP,
    "GET /ajax-api/3.0/mlflow/mcp-servers/{name:path}/endpoints/{endpoint_id}": MCP,
    "PATCH /ajax-api/3.0/mlflow/mcp-servers/{name:path}/endpoints/{endpoint_id}": MCP,
    "POST /ajax-api/3.0/mlflow/mcp-servers/{name:path}/tags": MCP,
    "DELETE /ajax-api/3.0/mlflow/mcp-servers/{name:path}/tags/{key:path}": MCP,
    "GET /ajax-api/3.0/mlflow/mcp-servers/{name:path}/versions": MCP,
    "POST /ajax-api/3.0/mlflow/mcp-servers/{name:path}/versions": MCP,
    "DELETE /ajax-api/3.0/mlflow/mcp-servers/{name:path}/versions/{version:path}": MCP,
    "GET /ajax-api/3.0/mlflow/mcp-servers/{name:path}/versions/{version:path}": MCP,
    "PATCH /ajax-api/3.0/mlflow/mcp-servers/{name:path}/versions/{version:path}": MCP,
    "POST /ajax-api/3.0/mlflow/mcp-servers/{name:path}/versions/{version:path}/tags": MCP,
    "DELETE /ajax-api/3.0/mlflow/mcp-servers/{name:path}/versions/{version:path}/tags/{key:path}": MCP,  # noqa: E501
    "GET /api/3.0/mlflow/mcp-servers": MCP,
    "POST /api/3.0/mlflow/mcp-servers": MCP,
    "GET /api/3.0/mlflow/mcp-servers/endpoints": MCP,
    "DELETE /api/3.0/mlflow/mcp-servers/{name:path}": MCP,
    "GET /api/3.0/mlflow/mcp-servers/{name:path}": MCP,
    "PATCH /api/3.0/mlflow/mcp-servers/{name:path}": MCP,
    "POST /api/3.0/mlflow/mcp-servers/{name:path}/aliases": MCP,
    "DELETE /api/3.0/mlflow/mcp-servers/{name:path}/aliases/{alias:path}": MCP,
    "GET /api/3.0/mlflow/mcp-servers/{name:path}/aliases/{alias:path}": MCP,
    "GET /api/3.0/mlflow/mcp-servers/{name:path}/endpoints": MCP,
    "POST /api/3.0/mlflow/mcp-servers/{name:path}/endpoints": MCP,
    "DELETE /api/3.0/mlflow/mcp-servers/{name:path}/endpoints/{endpoint_id}": MCP,
    "GET /api/3.0/mlflow/mcp-servers/{name:path}/endpoints/{endpoint_id}": MCP,
    "PATCH /api/3.0/mlflow/mcp-servers/{name:path}/endpoints/{endpoint_id}": MCP,
    "POST /api/3.0/mlflow/mcp-servers/{name:path}/tags": MCP,
    "DELETE /api/3.0/mlflow/mcp-servers/{name:path}/tags/{key:path}": MCP,
    "GET /api/3.0/mlflow/mcp-servers/{name:path}/versions": MCP,
    "POST /api/3.0/mlflow/mcp-servers/{name:path}/versions": MCP,
    "DELETE /api/3.0/mlflow/mcp-servers/{name:path}/versions/{version:path}": MCP,
    "GET /api/3.0/mlflow/mcp-servers/{name:path}/versions/{version:path}": MCP,
    "PATCH /api/3.0/mlflow/mcp-servers/{name:path}/versions/{version:path}": MCP,
    "POST /api/3.0/mlflow/mcp-servers/{name:path}/versions/{version:path}/tags": MCP,
    "DELETE /api/3.0/mlflow/mcp-servers/{name:path}/versions/{version:path}/tags/{key:path}": MCP,
    "GET /ajax-api/2.0/mlflow/webhooks": WEBHOOKS,
    "POST /ajax-api/2.0/mlflow/webhooks": WEBHOOKS,
    "DELETE /ajax-api/2.0/mlflow/webhooks/{webhook_id}": WEBHOOKS,
    "GET /ajax-api/2.0/mlflow/webhooks/{webhook_id}": WEBHOOKS,
    "PATCH /ajax-api/2.0/mlflow/webhooks/{webhook_id}": WEBHOOKS,
    "POST /ajax-api/2.0/mlflow/webhooks/{webhook_id}/test": WEBHOOKS,
    "GET /api/2.0/mlflow/webhooks": WEBHOOKS,
    "POST /api/2.0/mlflow/webhooks": WEBHOOKS,
    "DELETE /api/2.0/mlflow/webhooks/{webhook_id}": WEBHOOKS,
    "GET /api/2.0/mlflow/webhooks/{webhook_id}": WEBHOOKS,
    "PATCH /api/2.0/mlflow/webhooks/{webhook_id}": WEBHOOKS,
    "POST /api/2.0/mlflow/webhooks/{webhook_id}/test": WEBHOOKS,
    "GET /ajax-api/3.0/mlflow/workspaces": WORKSPACES,
    "POST /ajax-api/3.0/mlflow/workspaces": WORKSPACES,
    "DELETE /ajax-api/3.0/mlflow/workspaces/{workspace_name}": WORKSPACES,
    "GET /ajax-api/3.0/mlflow/workspaces/{workspace_name}": WORKSPACES,
    "PATCH /ajax-api/3.0/mlflow/workspaces/{workspace_name}": WORKSPACES,
    "GET /api/3.0/mlflow/workspaces": WORKSPACES,
    "POST /api/3.0/mlflow/workspaces": WORKSPACES,
    "DELETE /api/3.0/mlflow/workspaces/{workspace_name}": WORKSPACES,
    "GET /api/3.0/mlflow/workspaces/{workspace_name}": WORKSPACES,
    "PATCH /api/3.0/mlflow/workspaces/{workspace_name}": WORKSPACES,
    "POST /ajax-api/2.0/mlflow-artifacts/mpu/abort/{artifact_path:path}": DIRECT_UPLOADS,
    "POST /ajax-api/2.0/mlflow-artifacts/mpu/complete/{artifact_path:path}": DIRECT_UPLOADS,
    "POST /ajax-api/2.0/mlflow-artifacts/mpu/create/{artifact_path:path}": DIRECT_UPLOADS,
    "GET /ajax-api/2.0/mlflow-artifacts/presigned/{artifact_path:path}": DIRECT_UPLOADS,
    "POST /ajax-api/2.0/mlflow/artifacts/presigned-download-url": DIRECT_UPLOADS,
    "POST /ajax-api/2.0/mlflow/artifacts/presigned-upload-url": DIRECT_UPLOADS,
    "POST /api/2.0/mlflow-artifacts/mpu/abort/{artifact_path:path}": DIRECT_UPLOADS,
    "POST /api/2.0/mlflow-artifacts/mpu/complete/{artifact_path:path}": DIRECT_UPLOADS,
    "POST /api/2.0/mlflow-artifacts/mpu/create/{artifact_path:path}": DIRECT_UPLOADS,
    "GET /api/2.0/mlflow-artifacts/presigned/{artifact_path:path}": DIRECT_UPLOADS,
    "POST /api/2.0/mlflow/artifacts/presigned-download-url": DIRECT_UPLOADS,
    "POST /api/2.0/mlflow/artifacts/presigned-upload-url": DIRECT_UPLOADS,
    "GET /graphql": GRAPHQL,
    "POST /graphql": GRAPHQL,
    "GET /build/{filename:path}": UI_BUNDLE,
    "GET /static-files/{path:path}": UI_BUNDLE,
    "GET /ajax-api/3.0/mlflow/ui-telemetry": TELEMETRY,
    "POST /ajax-api/3.0/mlflow/ui-telemetry": TELEMETRY,
    "POST /ajax-api/3.0/mlflow/demo/delete": DEMO,
    "POST /ajax-api/3.0/mlflow/demo/generate": DEMO,
    "POST /ajax-api/2.0mlflow/experiments/search-datasets": MALFORMED,
    "POST /api/2.0mlflow/experiments/search-datasets": MALFORMED,
}


#: The methods a listed path answers (HEAD comes with GET).
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _not_served(reason: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        # Read the body first (bounded): HTTP/1.1 servers close a connection whose request
        # was answered before it was read, and the client's next request on it then fails.
        await read_body(request, request.app.state.settings.max_request_body_bytes)
        return error_body(
            "ENDPOINT_NOT_FOUND",
            f"{request.method} {request.url.path} is not served by Stratus: {reason}",
            404,
        )

    return endpoint


def _routes(entries: Iterable[tuple[str, str, str]]) -> list[BaseRoute]:
    """One route per listed path, for every method: a path Stratus does not serve at all
    answers ENDPOINT_NOT_FOUND (not 405) whatever the method, so the client's fallbacks
    still fire. Served routes come first, so a served method of the same path still wins."""
    reasons: dict[str, list[str]] = {}
    for _method, path, reason in entries:
        if reason not in reasons.setdefault(path, []):
            reasons[path].append(reason)
    # Literal paths before parametrised ones: ``issues/invoke`` is not ``issues/{issue_id}``.
    ordered = sorted(reasons, key=lambda path: path.count("{"))
    return [
        Route(path, _not_served("; ".join(reasons[path])), methods=list(METHODS))
        for path in ordered
    ]


def entries() -> list[tuple[str, str, str]]:
    """``(method, path, reason)`` of each listed route."""
    entries = []
    for route, reason in UNSERVED.items():
        method, path = route.split(" ", 1)
        entries.append((method, path, reason))
    return entries


def under(prefix: str) -> list[BaseRoute]:
    """The listed routes below ``prefix``, relative to it (for the end of that mount)."""
    start = prefix + "/"
    return _routes(
        (method, path[len(prefix) :], reason)
        for method, path, reason in entries()
        if path.startswith(start)
    )


def elsewhere(prefixes: Iterable[str]) -> list[BaseRoute]:
    """The listed routes below none of ``prefixes`` (at the root)."""
    starts = tuple(prefix + "/" for prefix in prefixes)
    return _routes(entry for entry in entries() if not entry[1].startswith(starts))
