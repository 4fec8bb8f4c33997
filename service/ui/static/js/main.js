/**
 * The single-page app: hash routes (``#/runs/<id>``) to page modules. Each page renders
 * into ``#app`` and gets a context with its route parameters, an AbortSignal that fires
 * when the user navigates away, and ``onCleanup`` for charts and observers.
 */

import { session } from "./api.js";
import { h, link, mount } from "./dom.js";
import { legacyTarget } from "./redirects.js";
import { signInHref } from "./components/signin.js";
import { failure } from "./components/states.js";
import { whoami } from "./components/whoami.js";
import * as experimentsPage from "./pages/experiments.js";
import * as runsPage from "./pages/runs.js";
import * as runPage from "./pages/run.js";
import * as comparePage from "./pages/compare.js";
import * as modelsPage from "./pages/models.js";
import * as modelPage from "./pages/model.js";
import * as tokensPage from "./pages/tokens.js";
import * as tracesPage from "./pages/traces.js";
import * as tracePage from "./pages/trace.js";

const ROUTES = [
  [/^\/?$/, experimentsPage.render, "experiments"],
  [/^\/experiments$/, experimentsPage.render, "experiments"],
  [/^\/experiments\/([^/]+)$/, runsPage.render, "experiments"],
  [/^\/experiments\/([^/]+)\/traces$/, tracesPage.render, "experiments"],
  [/^\/traces\/([^/]+)$/, tracePage.render, "experiments"],
  [/^\/runs\/([^/]+)$/, runPage.render, "experiments"],
  // The address the mlflow client prints ("View run at …/#/experiments/1/runs/<id>").
  [/^\/experiments\/[^/]+\/runs\/([^/]+)$/, runPage.render, "experiments"],
  [/^\/compare$/, comparePage.render, "experiments"],
  [/^\/models$/, modelsPage.render, "models"],
  [/^\/models\/([^/]+)$/, modelPage.renderModel, "models"],
  [/^\/models\/([^/]+)\/versions\/([^/]+)$/, modelPage.renderVersion, "models"],
  [/^\/tokens$/, tokensPage.render, "tokens"],
];

const root = document.getElementById("app");
let current = null;

function parseHash() {
  const raw = window.location.hash.replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split("?");
  return { path, query: new URLSearchParams(query) };
}

function navigate() {
  if (current) {
    current.controller.abort();
    current.cleanups.forEach((fn) => fn());
  }
  const { path, query } = parseHash();
  const legacy = legacyTarget(path, query);
  if (legacy) {
    // An address in MLflow's format: show the matching page under its Stratus address.
    window.history.replaceState(null, "", legacy);
    navigate();
    return;
  }
  const controller = new AbortController();
  const ctx = {
    query,
    signal: controller.signal,
    controller,
    cleanups: [],
    onCleanup(fn) {
      this.cleanups.push(fn);
    },
    setTitle(text) {
      document.title = text ? `${text} · Stratus` : "Stratus";
    },
    /** Record UI state (tab, filter, sort) in the address without re-rendering. */
    setQuery(values) {
      for (const [key, value] of Object.entries(values)) {
        if (value == null || value === "") query.delete(key);
        else query.set(key, value);
      }
      const qs = query.toString();
      window.history.replaceState(null, "", `#${path}${qs ? `?${qs}` : ""}`);
    },
  };
  current = ctx;
  ctx.setTitle("");
  for (const [pattern, render, nav] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    document
      .querySelectorAll("[data-nav]")
      .forEach((a) => a.classList.toggle("active", a.dataset.nav === nav));
    ctx.params = match.slice(1).map(decodeURIComponent);
    const page = h("div", { class: "page" });
    mount(root, page);
    window.scrollTo(0, 0);
    Promise.resolve(render(page, ctx)).catch((error) => {
      if (!ctx.signal.aborted) mount(page, pageFailure(error));
    });
    return;
  }
  mount(
    root,
    h(
      "div",
      { class: "page" },
      pageFailure({ status: 404, message: `There is no page at ${path}.` }),
    ),
  );
}

/** A page that could not load: the reason, and a way back. */
function pageFailure(error) {
  return h(
    "div",
    { class: "card" },
    failure(error),
    h("p", { class: "state-back" }, link(["experiments"], "Back to experiments")),
  );
}

/**
 * Ask who is signed in first: with authentication on and no session, go to the sign-in
 * page with this whole address (fragment included) as ``next``, so a shared deep link
 * lands on its page after sign-in.
 */
/** The skip link moves focus to the page (a plain #app would be read as a route). */
document.getElementById("skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  root.focus();
});

async function start() {
  let current = null;
  try {
    current = await session.load();
  } catch {
    // An older server without the session endpoint: pages still work, 401s still prompt.
  }
  if (current?.auth_enabled && !current.user) {
    window.location.replace(signInHref());
    return;
  }
  whoami(document.getElementById("whoami"), current);
  window.addEventListener("hashchange", navigate);
  navigate();
}

start();
