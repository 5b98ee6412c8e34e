// A ticket's row in the list, built from the data the live list and GET /api/tickets carry, and read back
// (the sort keys a row keeps in its data attributes, for placing another row beside it).
import { h, personChip } from "./dom.js";
import { CLOSED_STATUSES, statusLabel } from "./format.js";

const PRIORITY_LABELS = { low: "Low", normal: "Normal", high: "High", urgent: "Urgent" };

function timeTag(iso, style) {
  return h("time", { datetime: iso, dataset: { local: style } }, String(iso).slice(0, 16).replace("T", " "));
}

function peopleOf(t, meId) {
  // One chip per person; someone working counts over someone only viewing.
  const byId = new Map();
  for (const m of Array.isArray(t.members) ? t.members : []) {
    const id = String(m.id);
    if (id === meId) continue;
    const old = byId.get(id);
    if (!old || m.state === "working") byId.set(id, m);
  }
  return [...byId.values()];
}

const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', "#x27": "'" };

/** A search's snippet (the server's HTML: escaped text, <mark> around the words found) as nodes, never as markup. */
function snippetEl(html) {
  const parts = String(html).split(/<mark>|<\/mark>/);
  const text = (s) => s.replace(/&(amp|lt|gt|quot|#x27);/g, (_, e) => ENTITIES[e]); // the five the server writes
  return h("span", { className: "ticket-snippet" },
    parts.map((part, i) => (i % 2 ? h("mark", {}, text(part)) : text(part))));
}

/** The same markup as templates/tickets.html, from a row of the protocol or of GET /api/tickets. */
export function rowEl(t, { isStaff, showOrg, meId }) {
  const status = String(t.status || "new");
  const names = (Array.isArray(t.assignees) ? t.assignees : []).map((a) => a.name);
  const open = !CLOSED_STATUSES.has(status);
  const people = peopleOf(t, meId);
  const orgName = t.org_name || t.org?.name;
  let next;
  if (t.next_update_at && open) {
    next = h("span", { className: "next-update-inline", dataset: { nextUpdate: t.next_update_at } }, "Next update by ");
  } else {
    next = h("span", { className: "muted" }, open ? "No update scheduled" : "No update due");
  }
  return h("li", {
    className: `ticket-item${t.unreviewed ? " is-unreviewed" : ""}`,
    dataset: { ticketId: String(t.id), status, overdue: t.overdue && open ? "true" : "false",
      updated: t.updated_at || "", created: t.created_at || "", next: t.next_update_at || "",
      priority: String(t.priority || "") },
  },
  h("a", { className: "ticket-link", href: `/tickets/${encodeURIComponent(t.id)}` },
    h("span", { className: "ticket-main" },
      h("span", { className: "ticket-subject" },
        t.unreviewed ? h("span", { className: "new-marker" }, "New to you") : null,
        t.unreviewed ? " " : null,
        String(t.subject || "")),
      h("span", { className: "ticket-meta" },
        h("span", { className: "ticket-number" }, `#${t.id}`),
        showOrg && orgName ? h("span", { className: "ticket-org" }, orgName) : null,
        t.updated_at ? h("span", { className: "ticket-updated" }, "Updated ", timeTag(t.updated_at, "relative")) : null,
        h("span", { className: "ticket-assignees" }, names.length ? `Assigned to ${names.join(", ")}` : "Not assigned yet")),
      t.snippet ? snippetEl(t.snippet) : null,
      h("span", { className: "ticket-people", hidden: people.length === 0 },
        h("span", { className: "visually-hidden" }, "On it now: "),
        people.map((m) => personChip(m, { state: m.state || "viewing" })))),
    h("span", { className: "ticket-badges" },
      h("span", { className: `badge status status-${status}`, dataset: { status } }, statusLabel(status, isStaff)),
      " ",
      h("span", { className: `badge priority priority-${t.priority}`, dataset: { priority: String(t.priority || "") } },
        h("span", { className: "visually-hidden" }, "Priority: "), PRIORITY_LABELS[t.priority] || String(t.priority || "")),
      t.overdue && open ? h("span", { className: "badge overdue-badge" }, "Overdue") : null),
    h("span", { className: "ticket-next" }, next)));
}

/** What of a row on the page its place in the sort depends on. */
export function keysOf(li) {
  const d = li.dataset;
  return { id: d.ticketId, updated_at: d.updated, created_at: d.created, next_update_at: d.next || null,
    priority: d.priority };
}
