/**
 * The REST API, as the UI calls it: the same endpoints as the mlflow client, with the
 * browser's credentials (``same-origin``). A 401 anywhere opens the sign-in prompt.
 */

import { showSignIn } from "./components/signin.js";

const MLFLOW = "/api/2.0/mlflow";
const ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts";
const UI = "/ajax-api/2.0/stratus";

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
};

export const runs = {
  search: (body, signal) => post("runs/search", body, signal),
  get: (id, signal) => get("runs/get", { run_id: id }, signal),
  /** Up to 1,000 runs from any experiments in one request: ``{runs, missing}``. */
  getMany: (ids, signal) => request("POST", `${UI}/runs/get`, { body: { run_ids: ids }, signal }),
  remove: (id) => post("runs/delete", { run_id: id }),
  restore: (id) => post("runs/restore", { run_id: id }),
};

export const loggedModels = {
  get: (id, signal) =>
    request("GET", `${MLFLOW}/logged-models/${encodeURIComponent(id)}`, { signal }),
};

export const registry = {
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
  /** The root path of an ``mlflow-artifacts:`` URI, or null for any other scheme. */
  root(uri) {
    const match = /^mlflow-artifacts:\/*(.*?)\/*$/.exec(uri || "");
    return match ? match[1] : null;
  },
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

/** Personal access tokens (Stratus's own API). A new token's secret is in the create answer only. */
export const tokens = {
  list: (username, signal) => request("GET", `${UI}/tokens/list`, { query: { username }, signal }),
  create: (name, expiresInDays) =>
    request("POST", `${UI}/tokens/create`, { body: { name, expires_in_days: expiresInDays } }),
  revoke: (tokenId) => request("POST", `${UI}/tokens/revoke`, { body: { token_id: tokenId } }),
};
