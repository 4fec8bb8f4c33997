/** The model registry: registered models, searchable by name, with their aliases and latest versions. */

import { containsPattern, registry } from "../api.js";
import { debounce, h, icon, link, mount } from "../dom.js";
import { empty, failure, loading, snippet } from "../components/states.js";
import { chip, table } from "../components/table.js";
import * as fmt from "../format.js";

const PAGE_SIZE = 100;

export async function render(page, ctx) {
  ctx.setTitle("Models");
  const state = { search: ctx.query.get("q") || "", items: [], token: null };
  const body = h("div", { class: "card" });
  const footer = h("div", { class: "list-footer" });
  const searchBox = h("input", {
    type: "search",
    class: "search",
    placeholder: "Search models by name",
    "aria-label": "Search models by name",
    value: state.search,
    on: {
      input: debounce(() => {
        state.search = searchBox.value.trim();
        ctx.setQuery({ q: state.search });
        load(true);
      }, 250),
    },
  });
  mount(
    page,
    h("div", { class: "page-head" }, h("h1", { text: "Registered models" })),
    h("div", { class: "toolbar" }, h("div", { class: "search-wrap" }, icon("search"), searchBox)),
    body,
    footer,
  );

  const columns = [
    {
      label: "Name",
      class: "col-name",
      cell: (m) => link(["models", m.name], m.name, { class: "strong" }),
    },
    { label: "Latest version", cell: (m) => latest(m) },
    {
      label: "Aliases",
      cell: (m) =>
        h(
          "div",
          { class: "chips" },
          (m.aliases || []).map((a) =>
            chip(`@${a.alias}`, {
              after: h("span", { class: "chip-version", text: ` v${a.version}` }),
            }),
          ),
        ),
    },
    {
      label: "Last modified",
      class: "col-time",
      cell: (m) =>
        h("span", {
          title: fmt.date(m.last_updated_timestamp),
          text: fmt.ago(m.last_updated_timestamp),
        }),
    },
    {
      label: "Description",
      class: "col-desc hide-narrow",
      cell: (m) => h("span", { class: "clip muted", text: m.description || "" }),
    },
  ];

  async function load(reset) {
    if (reset) {
      state.items = [];
      state.token = null;
      mount(body, loading());
    }
    try {
      const result = await registry.searchModels(
        {
          max_results: PAGE_SIZE,
          page_token: reset ? undefined : state.token,
          filter: state.search ? `name ILIKE ${containsPattern(state.search)}` : undefined,
          order_by: "name ASC",
        },
        ctx.signal,
      );
      state.items.push(...(result.registered_models || []));
      state.token = result.next_page_token || null;
    } catch (error) {
      mount(
        body,
        failure(error, () => load(true)),
      );
      return;
    }
    if (!state.items.length) {
      mount(
        body,
        state.search
          ? empty("No models match.", "Try another name.")
          : empty(
              "No registered models yet.",
              "Register one from Python:",
              snippet('mlflow.register_model("runs:/<run_id>/model", "my-model")'),
            ),
      );
    } else {
      mount(body, table(columns, state.items));
    }
    mount(
      footer,
      h("span", {
        class: "muted",
        text: `${fmt.count(state.items.length)} model${state.items.length === 1 ? "" : "s"}`,
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
  await load(true);
}

function latest(model) {
  const versions = [...(model.latest_versions || [])].sort(
    (a, b) => Number(b.version) - Number(a.version),
  );
  if (!versions.length) return h("span", { class: "muted", text: "—" });
  const top = versions[0];
  return h(
    "span",
    null,
    link(["models", model.name, "versions", top.version], `Version ${top.version}`),
    top.current_stage && top.current_stage !== "None"
      ? h("span", { class: "muted", text: ` · ${top.current_stage}` })
      : null,
  );
}
