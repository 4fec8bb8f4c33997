/** Run and model-version status badges. */

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
