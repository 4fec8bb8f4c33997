/**
 * Refresh a view while something in it is still running, without hammering the server:
 * the first check after FIRST_MS, then twice as long after each check that found nothing
 * new (up to MAX_MS), back to FIRST_MS after a change. It stops when ``active()`` is
 * false, when the page is left (``signal``), and pauses while the tab is hidden.
 */

const FIRST_MS = 3000;
const MAX_MS = 60000;

/** ``refresh()`` resolves to true when it found something new. Returns ``{kick, stop}``. */
export function liveRefresh({ active, refresh, signal, onState = () => {} }) {
  let delay = FIRST_MS;
  let timer = null;
  let stopped = false;

  function schedule() {
    clearTimeout(timer);
    if (stopped || signal.aborted || !active()) {
      timer = null;
      onState(false);
      return;
    }
    onState(true);
    timer = setTimeout(tick, delay);
  }

  async function tick() {
    if (document.hidden) {
      document.addEventListener("visibilitychange", schedule, { once: true });
      return;
    }
    let changed;
    try {
      changed = await refresh();
    } catch (error) {
      if (error.name === "AbortError") return;
      changed = false; // a failed check backs off like a quiet one
    }
    delay = changed ? FIRST_MS : Math.min(MAX_MS, delay * 2);
    schedule();
  }

  signal.addEventListener("abort", () => clearTimeout(timer));
  schedule();
  return {
    /** Something may have started running: check soon again. */
    kick() {
      delay = FIRST_MS;
      if (!timer) schedule();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
