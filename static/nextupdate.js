// The ticket's promise of its next update: "Next update by 14:30 (in 25 min) (set by staff)",
// counting down to the minute, and overdue the moment it passes.
import { CLOSED_STATUSES, fullTime, nextUpdateText, parseInstant, shortTime, toLocalInputValue } from "./format.js";

const SOURCE_WORDS = { staff: "set by staff", sla: "service level target" };
const REFRESH_AFTER_MS = 800;

const $ = (id) => document.getElementById(id);

/**
 * `input` is the staff's datetime-local field, kept in step unless `inputDirty()` says the
 * person is editing it.
 */
export function createNextUpdate({ page, ticketId, input, inputDirty }) {
  const els = { text: $("next-update"), pill: $("next-update-pill"), source: $("next-update-source") };
  let at = page.dataset.nextUpdate || null;
  let source = page.dataset.nextUpdateSource || null;
  let status = page.dataset.status || "";
  let timer = 0;
  let refreshTimer = 0;
  let version = 0; // moves on whenever an event sets the promise itself

  function render() {
    clearTimeout(timer);
    const now = new Date();
    let { text, state: kind, at: due } = nextUpdateText(at, now);
    if (CLOSED_STATUSES.has(status)) {
      text = "No update scheduled";
      kind = "none";
    }
    els.text.textContent = text;
    els.text.dataset.state = kind;
    els.pill.dataset.state = kind;
    page.dataset.overdue = kind === "overdue" ? "true" : "false";
    if (due) els.pill.title = fullTime(due);
    else els.pill.removeAttribute("title");

    const detail = [];
    if (kind === "overdue") detail.push(`was due ${shortTime(due, now)}`);
    if (kind !== "none" && SOURCE_WORDS[source]) detail.push(SOURCE_WORDS[source]);
    const detailText = detail.length ? `(${detail.join(", ")})` : "";
    els.source.textContent = detailText;
    els.source.hidden = !detailText;

    // Again when the minutes shown change, and right when it falls due.
    if (due && kind !== "none") {
      const toDue = due - now;
      timer = setTimeout(render, toDue > 0 ? Math.min(toDue + 50, 15_000) : 30_000);
    }
  }

  /** A new promise; `newSource` undefined keeps the one known. */
  function set(iso, newSource) {
    if (typeof newSource === "string" || newSource === null) source = newSource;
    at = iso || null;
    page.dataset.nextUpdate = iso || "";
    if (input && !inputDirty()) {
      const when = parseInstant(iso);
      input.value = when ? toLocalInputValue(when) : "";
    }
    render();
  }

  function setStatus(value) {
    status = value;
    render();
  }

  /** A status event: it carries the time; who set it, the ticket itself says. */
  function fromStatusEvent(data) {
    version += 1;
    if (!("next_update_at" in data)) return;
    if (typeof data.next_update_source === "string") {
      set(data.next_update_at, data.next_update_source);
    } else {
      set(data.next_update_at, data.next_update_at ? "staff" : null);
      refreshSoon();
    }
  }

  // A public message moves the promise on the server (the SLA clock), but its event does not
  // say to what: ask for the ticket once the messages have settled.
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, REFRESH_AFTER_MS);
  }

  async function refresh() {
    const asked = version;
    try {
      const res = await fetch(`/api/tickets/${encodeURIComponent(ticketId)}`, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
      });
      if (!res.ok) return;
      const t = await res.json();
      // An event that set the promise meanwhile is newer than this answer.
      if (!t || typeof t !== "object" || !("next_update_at" in t) || asked !== version) return;
      set(t.next_update_at, t.next_update_source);
    } catch {
      // Offline: the next join brings the promise anyway.
    }
  }

  return { set, setStatus, fromStatusEvent, refreshSoon, render };
}
