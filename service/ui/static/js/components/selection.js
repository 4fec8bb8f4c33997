/**
 * A set of chosen ids that outlives what is on screen: the runs table keeps it across
 * sort, filter and paging, and records it in the address so a selection can be shared.
 */

export class Selection {
  constructor(ids = [], onChange = () => {}) {
    this.ids = new Set(ids);
    this.onChange = onChange;
  }

  get size() {
    return this.ids.size;
  }

  has(id) {
    return this.ids.has(id);
  }

  list() {
    return [...this.ids];
  }

  toggle(id, on) {
    if (on) this.ids.add(id);
    else this.ids.delete(id);
    this.onChange();
  }

  addAll(ids) {
    for (const id of ids) this.ids.add(id);
    this.onChange();
  }

  deleteAll(ids) {
    for (const id of ids) this.ids.delete(id);
    this.onChange();
  }

  clear() {
    this.ids.clear();
    this.onChange();
  }
}

/** The ids in an address parameter (``a,b,c``; MLflow's ``["a","b"]`` is read too). */
export function parseIds(raw) {
  const text = (raw || "").trim();
  if (text.startsWith("[")) {
    try {
      const list = JSON.parse(text);
      if (Array.isArray(list)) return [...new Set(list.map(String).filter(Boolean))];
    } catch {
      // Not JSON: read it as a comma-separated list.
    }
  }
  return [
    ...new Set(
      text
        .replace(/[[\]"']/g, "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}
