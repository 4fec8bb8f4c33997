/** Experiments: list, search by name, create, rename, delete and restore. */

import { containsPattern, experiments } from "../api.js";
import { debounce, h, icon, link, mount } from "../dom.js";
import { confirm, prompt } from "../components/dialog.js";
import { empty, failure, loading, snippet, toast } from "../components/states.js";
import { segmented } from "../components/controls.js";
import { table } from "../components/table.js";
import * as fmt from "../format.js";

const PAGE_SIZE = 100;
const VIEWS = [
  ["ACTIVE_ONLY", "Active"],
  ["DELETED_ONLY", "Deleted"],
  ["ALL", "All"],
];

export async function render(page, ctx) {
  ctx.setTitle("Experiments");
  const state = {
    search: ctx.query.get("q") || "",
    view: ctx.query.get("view") || "ACTIVE_ONLY",
    sort: {
      key: ctx.query.get("sort") || "last_update_time",
      desc: ctx.query.get("dir") !== "asc",
    },
    items: [],
    token: null,
  };
  const body = h("div", { class: "card" });
  const footer = h("div", { class: "list-footer" });

  const searchBox = h("input", {
    type: "search",
    class: "search",
    placeholder: "Search experiments by name",
    "aria-label": "Search experiments by name",
    value: state.search,
    on: {
      input: debounce(() => {
        state.search = searchBox.value.trim();
        ctx.setQuery({ q: state.search });
        reload();
      }, 250),
    },
  });
  const viewSelect = segmented(VIEWS, state.view, (view) => {
    state.view = view;
    ctx.setQuery({ view: view === "ACTIVE_ONLY" ? null : view });
    reload();
  });

  mount(
    page,
    h(
      "div",
      { class: "page-head" },
      h("h1", { text: "Experiments" }),
      h(
        "button",
        { class: "btn primary", type: "button", on: { click: create } },
        icon("plus"),
        "New experiment",
      ),
    ),
    h(
      "div",
      { class: "toolbar" },
      h("div", { class: "search-wrap" }, icon("search"), searchBox),
      viewSelect,
    ),
    body,
    footer,
  );

  async function create() {
    const name = await prompt({
      title: "New experiment",
      label: "Name",
      action: "Create",
      submit: async (value) => {
        const created = await experiments.create(value);
        state.createdId = created.experiment_id;
      },
    });
    if (name) {
      toast(`Experiment “${name}” created`);
      window.location.hash = `#/experiments/${encodeURIComponent(state.createdId)}`;
    }
  }

  async function rename(exp) {
    const name = await prompt({
      title: "Rename experiment",
      label: "New name",
      value: exp.name,
      action: "Rename",
      submit: (value) => experiments.rename(exp.experiment_id, value),
    });
    if (name) {
      toast("Experiment renamed");
      reload();
    }
  }

  async function setDeleted(exp, deleted) {
    if (deleted) {
      const sure = await confirm({
        title: "Delete experiment?",
        message: `“${exp.name}” and its runs move to the deleted view, where they can be restored.`,
        action: "Delete",
        danger: true,
      });
      if (!sure) return;
    }
    try {
      await (deleted
        ? experiments.remove(exp.experiment_id)
        : experiments.restore(exp.experiment_id));
      toast(deleted ? "Experiment deleted" : "Experiment restored");
      reload();
    } catch (error) {
      toast(error.message, "error");
    }
  }

  const columns = [
    {
      label: "Name",
      key: "name",
      class: "col-name",
      cell: (e) => link(["experiments", e.experiment_id], e.name, { class: "strong" }),
    },
    { label: "ID", key: "experiment_id", class: "col-id mono", cell: (e) => e.experiment_id },
    {
      label: "Created",
      key: "creation_time",
      class: "col-time",
      cell: (e) => h("span", { title: fmt.date(e.creation_time), text: fmt.date(e.creation_time) }),
    },
    {
      label: "Last updated",
      key: "last_update_time",
      class: "col-time",
      cell: (e) =>
        h("span", { title: fmt.date(e.last_update_time), text: fmt.ago(e.last_update_time) }),
    },
    {
      label: "Description",
      class: "col-desc hide-narrow",
      cell: (e) =>
        h("span", {
          class: "clip muted",
          text: fmt.pairs(e.tags).get("mlflow.note.content") || "",
        }),
    },
    {
      label: "",
      class: "col-actions",
      cell: (e) =>
        h(
          "div",
          { class: "row-actions" },
          e.lifecycle_stage === "deleted"
            ? h(
                "button",
                { class: "btn small", type: "button", on: { click: () => setDeleted(e, false) } },
                icon("restore"),
                "Restore",
              )
            : [
                h(
                  "button",
                  {
                    class: "btn small ghost",
                    type: "button",
                    title: "Rename",
                    "aria-label": `Rename ${e.name}`,
                    on: { click: () => rename(e) },
                  },
                  icon("edit"),
                ),
                h(
                  "button",
                  {
                    class: "btn small ghost",
                    type: "button",
                    title: "Delete",
                    "aria-label": `Delete ${e.name}`,
                    on: { click: () => setDeleted(e, true) },
                  },
                  icon("trash"),
                ),
              ],
        ),
    },
  ];

  function onSort(key) {
    state.sort = { key, desc: state.sort.key === key ? !state.sort.desc : key !== "name" };
    ctx.setQuery({ sort: key, dir: state.sort.desc ? "desc" : "asc" });
    reload();
  }

  function draw() {
    if (!state.items.length) {
      const searching = state.search || state.view !== "ACTIVE_ONLY";
      mount(
        body,
        searching
          ? empty("No experiments match.", "Try another name, or look in another view.")
          : empty(
              "No experiments yet.",
              "Create one here, or from Python:",
              snippet('mlflow.set_experiment("my-experiment")'),
            ),
      );
    } else {
      mount(
        body,
        table(columns, state.items, {
          sort: state.sort,
          onSort,
          rowClass: (e) => (e.lifecycle_stage === "deleted" ? "deleted" : null),
        }),
      );
    }
    mount(
      footer,
      h("span", {
        class: "muted",
        text: `${fmt.count(state.items.length)} experiment${state.items.length === 1 ? "" : "s"}${state.token ? " loaded" : ""}`,
      }),
      state.token
        ? h(
            "button",
            { class: "btn", type: "button", on: { click: () => load(false) } },
            "Load more",
          )
        : null,
    );
  }

  async function load(reset) {
    if (reset) {
      state.items = [];
      state.token = null;
      mount(body, loading());
    }
    try {
      const result = await experiments.search(
        {
          max_results: PAGE_SIZE,
          page_token: reset ? undefined : state.token,
          view_type: state.view,
          filter: state.search ? `name ILIKE ${containsPattern(state.search)}` : undefined,
          order_by: [`${state.sort.key} ${state.sort.desc ? "DESC" : "ASC"}`],
        },
        ctx.signal,
      );
      state.items.push(...(result.experiments || []));
      state.token = result.next_page_token || null;
      draw();
    } catch (error) {
      mount(
        body,
        failure(error, () => load(true)),
      );
    }
  }
  const reload = () => load(true);
  await load(true);
}
