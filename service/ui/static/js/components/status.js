/** Run, model-version, trace and span status badges. */

import { h } from "../dom.js";

const RUN = {
  RUNNING: "info",
  SCHEDULED: "info",
  FINISHED: "ok",
  FAILED: "bad",
  KILLED: "muted",
};

export function statusBadge(status) {
  const text = status || "UNKNOWN";
  return h("span", {
    class: `badge ${RUN[text] || "muted"}-badge`,
    text: text.charAt(0) + text.slice(1).toLowerCase(),
  });
}

const STAGE = { Production: "ok", Staging: "info", Archived: "muted", None: "plain" };

export function stageBadge(stage) {
  const text = stage || "None";
  return h("span", { class: `badge ${STAGE[text] || "plain"}-badge`, text });
}

const STATE = { OK: "ok", ERROR: "bad", IN_PROGRESS: "info" };

/** A trace's state (OK, ERROR, IN_PROGRESS) or a span's status (OK, ERROR, UNSET). */
export function stateBadge(state) {
  const text = state || "STATE_UNSPECIFIED";
  const label = { IN_PROGRESS: "In progress", STATE_UNSPECIFIED: "Unknown" }[text];
  return h("span", {
    class: `badge ${STATE[text] || "muted"}-badge`,
    text: label || text.charAt(0) + text.slice(1).toLowerCase(),
  });
}
