/**
 * The artifact browser: a lazily expanded tree over the proxied artifact API, and a
 * preview of the selected file (text, JSON, YAML, CSV, images, MLmodel) with a download
 * link. Previews read at most PREVIEW_BYTES, so a 10 GB checkpoint costs nothing.
 */

import { artifacts } from "../api.js";
import { h, icon, mount } from "../dom.js";
import { empty, failure, loading, snippet } from "./states.js";
import * as fmt from "../format.js";

const PREVIEW_BYTES = 512 * 1024;
const CSV_ROWS = 200;
const IMAGE = /\.(png|jpe?g|gif|svg|webp|bmp|ico)$/i;
const TEXT =
  /(\.(txt|log|out|err|md|rst|py|sh|cfg|ini|toml|xml|html?|ipynb|r|sql|yaml|yml|json|jsonl|csv|tsv)|^MLmodel|^MLproject|^requirements\.txt|^LICENSE)$/i;

/**
 * Browse the tree under ``root`` (``<exp>/<run>/artifacts`` or a logged model's root).
 * ``open``: a path to reveal and preview at once (from the address); ``onSelect(path)``
 * is told of each file the user opens, so the page can put it in the address.
 */
export function artifactBrowser(root, signal, { open = null, onSelect = null } = {}) {
  const tree = h("ul", { class: "tree", role: "tree", "aria-label": "Artifacts" });
  const preview = h(
    "div",
    { class: "preview" },
    h("p", { class: "muted preview-hint", text: "Select a file to preview it." }),
  );
  const element = h("div", { class: "artifacts" }, h("div", { class: "tree-pane" }, tree), preview);
  let selected = null;

  async function expand(list, path, depth) {
    mount(list, h("li", { class: "tree-status" }, loading()));
    let files;
    try {
      files = (await artifacts.list(path ? `${root}/${path}` : root, signal)).files || [];
    } catch (error) {
      mount(list, h("li", { class: "tree-status" }, failure(error)));
      return false;
    }
    files.sort(
      (a, b) =>
        Number(b.is_dir || false) - Number(a.is_dir || false) || a.path.localeCompare(b.path),
    );
    mount(
      list,
      files.map((file) => node(file, path, depth)),
    );
    return files.length > 0;
  }

  function node(file, parent, depth) {
    const name = file.path.split("/").pop();
    const path = parent ? `${parent}/${name}` : name;
    const label = h(
      "button",
      { class: "tree-item", type: "button", title: path, dataset: { path } },
      file.is_dir ? icon("chevronRight", "icon caret") : h("span", { class: "caret-space" }),
      icon(file.is_dir ? "folder" : "file"),
      h("span", { class: "tree-name", text: name }),
      file.is_dir ? null : h("span", { class: "tree-size", text: fmt.bytes(file.file_size) }),
    );
    label.style.paddingLeft = `${8 + depth * 16}px`;
    const item = h("li", { role: "treeitem" }, label);
    if (file.is_dir) {
      const children = h("ul", { role: "group", hidden: true });
      item.setAttribute("aria-expanded", "false");
      item.append(children);
      let loaded = false;
      label.addEventListener("click", async () => {
        const opening = children.hidden;
        children.hidden = !opening;
        item.setAttribute("aria-expanded", String(opening));
        label
          .querySelector(".caret")
          .replaceWith(icon(opening ? "chevronDown" : "chevronRight", "icon caret"));
        if (opening && !loaded) {
          loaded = true;
          if (!(await expand(children, path, depth + 1)))
            mount(children, h("li", { class: "tree-status muted", text: "Empty folder" }));
        }
      });
    } else {
      label.addEventListener("click", () => {
        selected?.classList.remove("selected");
        selected = label;
        label.classList.add("selected");
        onSelect?.(path);
        show(path, file.file_size);
      });
    }
    return item;
  }

  async function show(path, size) {
    const href = artifacts.href(`${root}/${path}`);
    const name = path.split("/").pop();
    const body = h("div", { class: "preview-body" }, loading());
    mount(
      preview,
      h(
        "div",
        { class: "preview-head" },
        h("span", { class: "preview-path mono clip", title: path, text: path }),
        h("span", { class: "muted", text: fmt.bytes(size) }),
        h("a", { class: "btn small", href, download: name }, icon("download"), "Download"),
      ),
      body,
    );
    try {
      mount(body, await render(name, href, size, signal));
    } catch (error) {
      mount(body, failure(error));
    }
  }

  /** Open the folders along ``path`` and select its file, as if the user had clicked. */
  async function reveal(path) {
    const parts = path.split("/").filter(Boolean);
    let list = tree;
    for (let i = 0; i < parts.length; i += 1) {
      const prefix = parts.slice(0, i + 1).join("/");
      const item = [...list.children].find(
        (li) => li.querySelector(":scope > .tree-item")?.dataset.path === prefix,
      );
      if (!item) {
        mount(preview, h("p", { class: "field-error", role: "alert", text: `${path} not found.` }));
        return;
      }
      const button = item.querySelector(":scope > .tree-item");
      if (i === parts.length - 1) {
        button.click();
        button.scrollIntoView({ block: "nearest" });
        return;
      }
      const children = item.querySelector(":scope > ul");
      if (children.hidden) {
        button.click();
        await waitForChildren(children);
      }
      list = children;
    }
  }

  expand(tree, "", 0).then((found) => {
    if (found === true) {
      if (open) reveal(open);
      return;
    }
    if (found === false && tree.querySelector(".state.error")) return;
    mount(
      element,
      empty(
        "No artifacts.",
        "Log files from Python:",
        snippet('mlflow.log_artifact("results.csv")\nmlflow.log_dict({"a": 1}, "config.json")'),
      ),
    );
  });
  return element;
}

/** Resolves once a folder's listing has replaced its loading row. */
function waitForChildren(list) {
  return new Promise((resolve) => {
    const done = () => !list.querySelector(".loading");
    if (done() && list.children.length) return resolve();
    const observer = new MutationObserver(() => {
      if (done() && list.children.length) {
        observer.disconnect();
        resolve();
      }
    });
    observer.observe(list, { childList: true, subtree: true });
  });
}

async function render(name, href, size, signal) {
  if (IMAGE.test(name))
    return h("div", { class: "image-preview" }, h("img", { src: href, alt: name }));
  if (!TEXT.test(name) && size > PREVIEW_BYTES)
    return h("p", {
      class: "muted",
      text: "No preview for this file type. Download it to open it.",
    });
  const { text, truncated, binary } = await readText(href, signal);
  if (binary)
    return h("p", {
      class: "muted",
      text: "No preview for this file type. Download it to open it.",
    });
  const note = truncated
    ? h("p", { class: "muted small", text: `Showing the first ${fmt.bytes(PREVIEW_BYTES)}.` })
    : null;
  if (/\.json$/i.test(name) && !truncated) {
    try {
      return [note, h("pre", { class: "code" }, JSON.stringify(JSON.parse(text), null, 2))];
    } catch {
      // Not valid JSON: show it as it is.
    }
  }
  if (/\.(csv|tsv)$/i.test(name)) return [note, csvTable(text, /\.tsv$/i.test(name) ? "\t" : ",")];
  if (name === "MLmodel") return [note, mlmodelSummary(text), h("pre", { class: "code" }, text)];
  return [note, h("pre", { class: "code" }, text)];
}

/** The first PREVIEW_BYTES of a file, as text; ``binary`` if it holds NUL bytes. */
async function readText(href, signal) {
  const response = await fetch(href, { credentials: "same-origin", signal });
  if (!response.ok) {
    let message = response.statusText;
    try {
      message = (await response.json()).message || message;
    } catch {
      // Not JSON.
    }
    throw Object.assign(new Error(message), { status: response.status });
  }
  const reader = response.body.getReader();
  const chunks = [];
  let total = 0;
  while (total < PREVIEW_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
  }
  const truncated = total >= PREVIEW_BYTES;
  if (truncated) reader.cancel();
  const bytes = new Uint8Array(Math.min(total, PREVIEW_BYTES));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
    if (offset >= bytes.length) break;
  }
  if (bytes.subarray(0, 4096).includes(0)) return { binary: true };
  return { text: new TextDecoder().decode(bytes), truncated };
}

/** A small CSV reader (quotes, doubled quotes, embedded separators and newlines). */
function parseCsv(text, sep = ",", maxRows = CSV_ROWS + 1) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === sep) {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if ((field || row.length) && rows.length < maxRows) rows.push([...row, field]);
  return rows;
}

function csvTable(text, sep) {
  const rows = parseCsv(text, sep);
  if (!rows.length) return h("p", { class: "muted", text: "Empty file" });
  const [head, ...body] = rows;
  const shown = body.slice(0, CSV_ROWS);
  return h(
    "div",
    null,
    h(
      "div",
      { class: "table-wrap csv" },
      h(
        "table",
        { class: "table compact" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            head.map((c) => h("th", { scope: "col", text: c })),
          ),
        ),
        h(
          "tbody",
          null,
          shown.map((r) =>
            h(
              "tr",
              null,
              r.map((c) => h("td", { text: c })),
            ),
          ),
        ),
      ),
    ),
    body.length > CSV_ROWS
      ? h("p", { class: "muted small", text: `Showing the first ${CSV_ROWS} rows.` })
      : null,
  );
}

/** MLmodel is YAML; pick out what a reader looks for first, without a YAML parser. */
function mlmodelSummary(text) {
  const top = (key) => (new RegExp(`^${key}:\\s*(.+)$`, "m").exec(text) || [])[1];
  const flavors = [];
  const block = /^flavors:\s*\n((?:[ \t]+.*\n?)*)/m.exec(text);
  if (block)
    for (const match of block[1].matchAll(/^ {2}([A-Za-z0-9_.-]+):/gm)) flavors.push(match[1]);
  const facts = [
    ["Flavors", flavors.join(", ")],
    ["Model ID", top("model_id")],
    ["Run ID", top("run_id")],
    ["Created", top("utc_time_created")],
    ["MLflow version", top("mlflow_version")],
    ["Signature", /^signature:/m.test(text) ? "yes" : "no"],
  ].filter(([, v]) => v);
  return h(
    "dl",
    { class: "facts compact" },
    facts.map(([k, v]) =>
      h(
        "div",
        { class: "fact" },
        h("dt", { text: k }),
        h("dd", { text: v.replace(/^['"]|['"]$/g, "") }),
      ),
    ),
  );
}
