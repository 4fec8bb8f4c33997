/**
 * Span inputs, outputs and attribute values, bounded: JSON pretty-printed (text as is),
 * cut at ``limit`` characters with "Show all" and a download of the whole value, so a
 * 10 MB LLM response costs one text node of 10,000 characters until asked for.
 */

import { h, mount } from "../dom.js";
import { download, safeName } from "../csv.js";
import * as fmt from "../format.js";

export const PAYLOAD_LIMIT = 10_000;

/** A value as display text: strings as they are, anything else as indented JSON. */
export function asText(value) {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A bounded ``<pre>`` of ``value``; ``name`` names the download. */
export function payload(value, { limit = PAYLOAD_LIMIT, name = "value", inline = false } = {}) {
  const text = asText(value);
  // A block can scroll, so it takes focus for keyboard scrolling; inline ones never scroll.
  const pre = h("pre", {
    class: inline ? "payload-text inline" : "code payload-text",
    tabindex: inline ? null : "0",
    text: text.length > limit ? `${text.slice(0, limit)}…` : text,
  });
  if (text.length <= limit) return pre;
  const note = h("p", {
    class: "muted small",
    text: `Showing the first ${fmt.count(limit)} of ${fmt.count(text.length)} characters.`,
  });
  const json = typeof value !== "string";
  const wrap = h(
    "div",
    { class: "payload" },
    pre,
    h(
      "div",
      { class: "payload-actions" },
      note,
      h(
        "button",
        {
          class: "btn small",
          type: "button",
          on: {
            click: (event) => {
              pre.textContent = text;
              note.textContent = `All ${fmt.count(text.length)} characters.`;
              event.currentTarget.remove();
            },
          },
        },
        "Show all",
      ),
      h(
        "button",
        {
          class: "btn small",
          type: "button",
          on: {
            click: () =>
              download(
                `${safeName(name)}.${json ? "json" : "txt"}`,
                text,
                json ? "application/json" : "text/plain;charset=utf-8",
              ),
          },
        },
        "Download",
      ),
    ),
  );
  return wrap;
}

/** Replace ``host``'s content with a bounded payload (or ``emptyText`` when there is none). */
export function showPayload(host, value, options = {}) {
  if (value === undefined || value === null || value === "")
    return mount(host, h("p", { class: "muted", text: options.emptyText || "None" }));
  return mount(host, payload(value, options));
}
