/**
 * DOM helpers. Nothing here parses HTML: user text (run names, params, tags, artifact
 * names, descriptions) only ever becomes text nodes or attribute values.
 */

const ICONS = {
  logo: "M7 18h10a4 4 0 0 0 .6-7.95A6 6 0 0 0 6.2 9.1 4.5 4.5 0 0 0 7 18z",
  chevronRight: "M9 6l6 6-6 6",
  chevronDown: "M6 9l6 6 6-6",
  folder: "M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z",
  file: "M6 3h8l4 4v14H6z M14 3v4h4",
  download: "M12 4v11 M7 10l5 5 5-5 M5 20h14",
  plus: "M12 5v14 M5 12h14",
  x: "M6 6l12 12 M18 6L6 18",
  search: "M11 18a7 7 0 1 1 0-14 7 7 0 0 1 0 14z M20 20l-4-4",
  columns: "M4 5h16v14H4z M10 5v14 M15 5v14",
  trash: "M4 7h16 M9 7V4h6v3 M6 7l1 13h10l1-13",
  edit: "M4 20h4L19 9l-4-4L4 16z",
  restore: "M4 12a8 8 0 1 0 3-6.2 M4 4v5h5",
  compare: "M8 4v16 M16 4v16 M4 8h8 M12 16h8",
  external: "M14 4h6v6 M20 4l-9 9 M18 14v6H4V6h6",
};

const SVG = "http://www.w3.org/2000/svg";

/** An inline icon from the fixed table above. */
export function icon(name, className = "icon") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", className);
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}

/** Only our own routes, same-origin paths and blobs may become links or sources. */
function safeUrl(url) {
  const text = String(url);
  if (text.startsWith("#") || text.startsWith("blob:")) return text;
  if (text.startsWith("/") && !text.startsWith("//")) return text;
  throw new Error(`refusing to link to ${text}`);
}

/**
 * Create an element. ``props``: ``class``, ``text``, ``on`` (event -> handler), ``style``
 * (CSSOM properties), DOM properties such as ``checked`` or ``value``, or attributes.
 * Children: nodes, strings (as text), arrays, or null/false (skipped).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "on")
      for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (key === "style") Object.assign(el.style, value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) throw new Error(`use on: {} for ${key}`);
    else if (key === "href" || key === "src") el.setAttribute(key, safeUrl(value));
    else if (typeof value !== "string" && key in el) el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace everything inside ``el`` with ``children``. */
export function mount(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A link to one of the UI's pages, e.g. ``link(["runs", id], name)``. */
export function route(parts, query) {
  const path = parts.map((p) => encodeURIComponent(String(p))).join("/");
  const qs = query ? new URLSearchParams(query).toString() : "";
  return `#/${path}${qs ? `?${qs}` : ""}`;
}

export function link(parts, label, props = {}) {
  return h("a", { href: route(parts, props.query), ...props, query: null }, label);
}

/** Call ``fn`` at most once per ``ms`` of quiet. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
