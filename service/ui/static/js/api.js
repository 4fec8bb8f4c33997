/**
 * The REST API, as the UI calls it: the same endpoints as the mlflow client, with the
 * browser's credentials (``same-origin``). A 401 anywhere opens the sign-in prompt.
 */

import { showSignIn } from "./components/signin.js";

const MLFLOW = "/api/2.0/mlflow";
const ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts";
const UI = "/ajax-api/2.0/stratus";
const V3 = "/api/3.0/mlflow";

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function url(path, query) {
  const target = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value == null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value])
      target.searchParams.append(key, item);
  }
  return target;
}

async function request(method, path, { query, body, signal } = {}) {
  const init = {
    method,
    credentials: "same-origin",
    signal,
    headers: { Accept: "application/json" },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url(path, query), init);
  const text = await response.text();
  let data = {};
  if (text && (response.headers.get("content-type") || "").includes("json")) {
    try {
      data = JSON.parse(text);
    } catch {
      data = {};
    }
  }
  if (response.status === 401) {
    showSignIn();
    throw new ApiError(401, "UNAUTHENTICATED", data.message || "You need to sign in.");
  }
  if (!response.ok) {
    const message = data.message || text.slice(0, 300) || response.statusText;
    throw new ApiError(response.status, data.error_code || `HTTP_${response.status}`, message);
  }
  return data;
}

const get = (path, query, signal) => request("GET", `${MLFLOW}/${path}`, { query, signal });
const post = (path, body, signal) => request("POST", `${MLFLOW}/${path}`, { body, signal });

/** A string literal of the search grammar. */
export function quote(value) {
  return `'${String(value).replace(/'/g, "''")}'`;
}

/** A LIKE pattern matching ``text`` anywhere, with its wildcards escaped. */
export function containsPattern(text) {
  return quote(`%${String(text).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
}

/** A search-grammar key: ``metrics.loss``, or ``metrics.`my key``` when it needs quoting. */
export function searchKey(type, key) {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(key) ? `${type}.${key}` : `${type}.\`${key}\``;
}

export const experiments = {
  search: (body, signal) => post("experiments/search", body, signal),
  get: (id, signal) => get("experiments/get", { experiment_id: id }, signal),
  /** The metric, param and tag keys of the experiment's runs (sorted, bounded). */
  runKeys: (id, { contains, maxResults }, signal) =>
    request("GET", `${UI}/experiments/run-keys`, {
      query: { experiment_id: id, contains, max_results: maxResults },
      signal,
    }),
  create: (name) => post("experiments/create", { name }),
  rename: (id, newName) => post("experiments/update", { experiment_id: id, new_name: newName }),
  remove: (id) => post("experiments/delete", { experiment_id: id }),
  restore: (id) => post("experiments/restore", { experiment_id: id }),
  setTag: (id, key, value) =>
    post("experiments/set-experiment-tag", { experiment_id: id, key, value }),
  deleteTag: (id, key) => post("experiments/delete-experiment-tag", { experiment_id: id, key }),
};

export const runs = {
  search: (body, signal) => post("runs/search", body, signal),
  get: (id, signal) => get("runs/get", { run_id: id }, signal),
  /** Up to 1,000 runs from any experiments in one request: ``{runs, missing}``. */
  getMany: (ids, signal) => request("POST", `${UI}/runs/get`, { body: { run_ids: ids }, signal }),
  remove: (id) => post("runs/delete", { run_id: id }),
  restore: (id) => post("runs/restore", { run_id: id }),
  rename: (id, name) => post("runs/update", { run_id: id, run_name: name }),
  setTag: (id, key, value) => post("runs/set-tag", { run_id: id, key, value }),
  deleteTag: (id, key) => post("runs/delete-tag", { run_id: id, key }),
};

export const loggedModels = {
  get: (id, signal) =>
    request("GET", `${MLFLOW}/logged-models/${encodeURIComponent(id)}`, { signal }),
};

const patch = (path, body) => request("PATCH", `${MLFLOW}/${path}`, { body });
const remove = (path, body) => request("DELETE", `${MLFLOW}/${path}`, { body });

export const registry = {
  createModel: (name) => post("registered-models/create", { name }),
  updateModel: (name, description) => patch("registered-models/update", { name, description }),
  deleteModel: (name) => remove("registered-models/delete", { name }),
  setModelTag: (name, key, value) => post("registered-models/set-tag", { name, key, value }),
  deleteModelTag: (name, key) => remove("registered-models/delete-tag", { name, key }),
  createVersion: (name, source, runId, modelId) =>
    post("model-versions/create", { name, source, run_id: runId, model_id: modelId }),
  updateVersion: (name, version, description) =>
    patch("model-versions/update", { name, version: String(version), description }),
  deleteVersion: (name, version) =>
    remove("model-versions/delete", { name, version: String(version) }),
  setVersionTag: (name, version, key, value) =>
    post("model-versions/set-tag", { name, version: String(version), key, value }),
  deleteVersionTag: (name, version, key) =>
    remove("model-versions/delete-tag", { name, version: String(version), key }),
  searchModels: (query, signal) => get("registered-models/search", query, signal),
  getModel: (name, signal) => get("registered-models/get", { name }, signal),
  searchVersions: (query, signal) => get("model-versions/search", query, signal),
  getVersion: (name, version, signal) => get("model-versions/get", { name, version }, signal),
  setAlias: (name, alias, version) =>
    post("registered-models/alias", { name, alias, version: String(version) }),
  deleteAlias: (name, alias) =>
    request("DELETE", `${MLFLOW}/registered-models/alias`, { body: { name, alias } }),
  transitionStage: (name, version, stage) =>
    post("model-versions/transition-stage", {
      name,
      version: String(version),
      stage,
      archive_existing_versions: false,
    }),
};

/** Proxied artifacts: ``root`` is ``<exp>/<run>/artifacts`` (or a logged model's root). */
export const artifacts = {
  list: (path, signal) => request("GET", ARTIFACTS, { query: { path }, signal }),
  href: (path) => `${ARTIFACTS}/${path.split("/").map(encodeURIComponent).join("/")}`,
  /** A JSON file (served as text), read with the browser's credentials. */
  json: async (path, signal) => {
    const response = await fetch(artifacts.href(path), { credentials: "same-origin", signal });
    if (!response.ok)
      throw new ApiError(response.status, `HTTP_${response.status}`, response.statusText);
    return JSON.parse(await response.text());
  },
  /** The root path of an ``mlflow-artifacts:`` URI, or null for any other scheme. */
  root(uri) {
    const match = /^mlflow-artifacts:\/*(.*?)\/*$/.exec(uri || "");
    return match ? match[1] : null;
  },
};

/** MLflow 3 traces: the endpoints ``mlflow.search_traces`` and ``mlflow.get_trace`` call. */
export const traces = {
  /** ``{traces: [TraceInfo], next_page_token}``, newest first unless ``order_by`` says. */
  search: (body, signal) => request("POST", `${V3}/traces/search`, { body, signal }),
  /** ``{trace: {trace_info, spans}}``: spans in OTLP proto3 JSON, as ingested. */
  get: (id, signal) => request("GET", `${V3}/traces/get`, { query: { trace_id: id }, signal }),
};

export const metrics = {
  /** One metric of several runs, downsampled by the server to about ``maxPoints`` each. */
  sampled: (query, signal) => request("GET", `${UI}/metrics/history-sampled`, { query, signal }),
};

/**
 * Who is signed in: ``{auth_enabled, user?: {username, is_admin, via}}`` (no ``user``:
 * nobody). Public, and asked once per page load (main.js); pages read ``session.current``.
 */
export const session = {
  current: null,
  load: async () => {
    session.current = await request("GET", `${UI}/session`);
    return session.current;
  },
};

const LEVELS = { NO_PERMISSIONS: 0, READ: 1, EDIT: 2, MANAGE: 3 };

/**
 * What the signed-in user may do to an experiment (``{experimentId}``) or a registered
 * model (``{modelName}``): ``may("EDIT")``. Controls that would be refused are not shown.
 */
export async function permission({ experimentId, modelName }, signal) {
  const { permission: level } = await request("GET", `${UI}/permission`, {
    query: { experiment_id: experimentId, model_name: modelName },
    signal,
  });
  return { level, may: (needed) => (LEVELS[level] ?? 0) >= LEVELS[needed] };
}

/** Personal access tokens (Stratus's own API). A new token's secret is in the create answer only. */
export const tokens = {
  list: (username, signal) => request("GET", `${UI}/tokens/list`, { query: { username }, signal }),
  create: (name, expiresInDays) =>
    request("POST", `${UI}/tokens/create`, { body: { name, expires_in_days: expiresInDays } }),
  revoke: (tokenId) => request("POST", `${UI}/tokens/revoke`, { body: { token_id: tokenId } }),
};
