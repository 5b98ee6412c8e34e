// The open list's question (filters and sort, as in its URL and GET /api/tickets), asked of one row in the
// browser: does this ticket belong in the list now, and where? Pure: no page, no network.
// `matches` answers true, false, or null when the row cannot tell (search words: only the server knows);
// the list then asks the server again.

const OPEN = new Set(["new", "triage", "in_progress", "waiting_on_client"]);
const WAITING_ON_US = new Set(["new", "triage", "in_progress"]);
const PRIORITY_RANK = { urgent: 0, high: 1, normal: 2, low: 3 };

/** The question in a query string (blank values left out, as the server does). Its days (updated_from,
 * updated_to) are the server's to read, on the person's own clock: `days` brings the instants it read them as,
 * `since` (the first day's start) and `until` (the start of the day after the last), from the page. */
export function readQuery(text, days = {}) {
  const params = new URLSearchParams(text || "");
  const one = (name) => (params.get(name) || "").trim() || null;
  return {
    q: one("q"),
    statuses: new Set(params.getAll("status").filter(Boolean)),
    priority: one("priority"),
    assignee: one("assignee"),
    org: one("org"),
    overdue: one("overdue") === "true",
    waitingOn: one("waiting_on"),
    after: one("updated_after") ? Date.parse(one("updated_after")) : null,
    before: one("updated_before") ? Date.parse(one("updated_before")) : null,
    since: days.since ? Date.parse(days.since) : null,
    until: days.until ? Date.parse(days.until) : null,
    sort: one("sort") || "-updated",
  };
}

/** Does the row belong in the list? true / false, or null when only the server can say. */
export function matches(query, row, meId) {
  if (query.statuses.size && !query.statuses.has(row.status)) return false;
  if (query.priority && row.priority !== query.priority) return false;
  if (query.org && String(row.org?.id ?? "") !== query.org) return false;
  if (query.assignee) {
    const ids = (Array.isArray(row.assignees) ? row.assignees : []).map((a) => String(a.id));
    if (query.assignee === "none" ? ids.length > 0
      : !ids.includes(query.assignee === "me" ? String(meId) : query.assignee)) return false;
  }
  if (query.overdue && !(row.overdue && OPEN.has(row.status))) return false;
  if (query.waitingOn === "client" && row.status !== "waiting_on_client") return false;
  if (query.waitingOn === "us" && !WAITING_ON_US.has(row.status)) return false;
  const updated = Date.parse(row.updated_at);
  if (query.after !== null && !(updated > query.after)) return false;
  if (query.before !== null && !(updated < query.before)) return false;
  if (query.since !== null && !(updated >= query.since)) return false;
  if (query.until !== null && !(updated < query.until)) return false;
  if (query.q) return null; // the words are matched by the server's search
  return true;
}

/** A row's place in the sort, as [segment, key, id] compared in order (see store/listing.py). */
export function sortKey(sort, row) {
  const id = Number(row.id);
  const at = (iso) => (iso ? Date.parse(iso) : 0);
  switch (sort) {
    case "created": return [0, at(row.created_at), id];
    case "-created": return [0, -at(row.created_at), -id];
    case "next_update": return row.next_update_at ? [0, at(row.next_update_at), id] : [1, 0, id];
    case "priority": return [PRIORITY_RANK[row.priority] ?? 9, 0, -id];
    default: return [0, -at(row.updated_at), -id];
  }
}

/** Negative when a comes before b in the list's order. */
export function compareKeys(a, b) {
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}
