/**
 * The runs of one experiment, one page of ``runs/search`` at a time. A new query (sort,
 * filter, view) starts a new generation; answers to an older one are dropped, so a slow
 * page can never land in the wrong list.
 */

import { runs } from "../../api.js";

export const PAGE_SIZE = 200;

export class RunPages {
  /** ``onPage()`` after each page lands; ``onError(error)`` when one fails. */
  constructor(experimentId, signal, { onPage, onError }) {
    this.experimentId = experimentId;
    this.signal = signal;
    this.onPage = onPage;
    this.onError = onError;
    this.query = null;
    this.generation = 0;
    this.reset();
  }

  reset() {
    this.runs = [];
    this.byId = new Map();
    this.token = null;
    this.done = false;
    this.loading = null;
  }

  /** Start over with ``query``: ``{filter, view, sort: {key, desc}}``. */
  restart(query) {
    this.query = query;
    this.generation += 1;
    this.reset();
    return this.next();
  }

  /** Fetch the next page, unless one is in flight or there are no more. */
  next() {
    if (this.loading || this.done || !this.query) return this.loading;
    const mine = this.generation;
    const { filter, view, sort } = this.query;
    this.loading = runs
      .search(
        {
          experiment_ids: [this.experimentId],
          filter: filter || undefined,
          run_view_type: view,
          max_results: PAGE_SIZE,
          order_by: [`${sort.key} ${sort.desc ? "DESC" : "ASC"}`],
          page_token: this.token || undefined,
        },
        this.signal,
      )
      .then((result) => {
        if (mine !== this.generation) return;
        for (const run of result.runs || []) {
          this.runs.push(run);
          this.byId.set(run.info.run_id, run);
        }
        this.token = result.next_page_token || null;
        this.done = !this.token;
        this.loading = null;
        this.onPage();
      })
      .catch((error) => {
        if (mine !== this.generation || error.name === "AbortError") return;
        this.loading = null;
        this.done = true;
        this.onError(error);
      });
    return this.loading;
  }
}
