// The ticket list, live: counters at the top, rows that change as tickets do, new tickets
// at the top without a reload. Staff follow `queue`; clients follow their organisation,
// and a partner its own and its clients' (the counts are added up).
import { refreshTimes } from "./app.js";
import { h, personChip } from "./dom.js";
import { CLOSED_STATUSES, statusLabel } from "./format.js";
import { live, follow, startLive } from "./socket.js";

const board = document.getElementById("dashboard");
const list = document.getElementById("ticket-list");
const empty = document.getElementById("empty-state");
const newLink = document.getElementById("new-ticket-link");
const counters = document.getElementById("counters");
const conn = document.getElementById("list-conn");
const connText = document.getElementById("list-conn-text");
const isStaff = board?.dataset.staff === "true";
const showOrg = board?.dataset.showOrg === "true";
const meId = document.body.dataset.meId;

const PRIORITY_LABELS = { low: "Low", normal: "Normal", high: "High", urgent: "Urgent" };

function timeTag(iso, style) {
  return h("time", { datetime: iso, dataset: { local: style } }, String(iso).slice(0, 16).replace("T", " "));
}

function peopleOf(t) {
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

/** The same markup as templates/tickets.html, from a row of the protocol. */
function rowEl(t) {
  const status = String(t.status || "new");
  const names = (Array.isArray(t.assignees) ? t.assignees : []).map((a) => a.name);
  const open = !CLOSED_STATUSES.has(status);
  const people = peopleOf(t);
  const orgName = t.org_name || t.org?.name;
  let next;
  if (t.next_update_at && open) {
    next = h("span", { className: "next-update-inline", dataset: { nextUpdate: t.next_update_at } }, "Next update by ");
  } else {
    next = h("span", { className: "muted" }, open ? "No update scheduled" : "No update due");
  }
  return h("li", {
    className: `ticket-item${t.unreviewed ? " is-unreviewed" : ""}`,
    dataset: { ticketId: String(t.id), status, overdue: t.overdue && open ? "true" : "false" },
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

function put(t, { flash = false } = {}) {
  if (!t || t.id === undefined || t.id === null) return;
  const li = rowEl(t);
  const old = list.querySelector(`li[data-ticket-id="${CSS.escape(String(t.id))}"]`);
  const hadFocus = old && old.contains(document.activeElement);
  if (old) old.replaceWith(li);
  else list.prepend(li);
  refreshTimes(li);
  if (hadFocus) li.querySelector("a").focus();
  if (flash || !old) {
    li.classList.add("is-flash");
    setTimeout(() => li.classList.remove("is-flash"), 2500);
  }
  list.hidden = false;
  if (empty) empty.hidden = true;
  if (newLink) newLink.hidden = false;
}

/** A ticket moved to another organisation leaves this list. */
function drop(id) {
  const old = list.querySelector(`li[data-ticket-id="${CSS.escape(String(id))}"]`);
  if (old) old.remove();
  if (!list.querySelector("li[data-ticket-id]")) {
    list.hidden = true;
    if (empty) empty.hidden = false;
  }
}

/** topic -> its latest counts */
const countsByTopic = new Map();

function setCounts(topic, counts) {
  if (!counts || typeof counts !== "object") return;
  countsByTopic.set(topic, counts);
  for (const li of counters.querySelectorAll("li[data-count]")) {
    const key = li.dataset.count;
    let total = 0;
    let known = false;
    for (const c of countsByTopic.values()) {
      if (!(key in c)) continue;
      known = true;
      total += Number(c[key]) || 0;
    }
    if (!known) continue;
    const value = String(total);
    const out = li.querySelector(".counter-value");
    if (li.dataset.value !== value) {
      if (li.dataset.value !== "") {
        li.classList.remove("is-changed");
        void li.offsetWidth;
        li.classList.add("is-changed");
      }
      li.dataset.value = value;
      out.textContent = value;
    }
    li.dataset.zero = value === "0" ? "true" : "false";
  }
  counters.setAttribute("aria-busy", "false");
}

/** topic -> "joined" | "refused", on this connection */
const joined = new Map();

function renderConn() {
  const s = live.state;
  let mode = "connecting";
  let text = "Connecting…";
  const answered = [...joined.values()];
  if (s === "open" && answered.includes("joined")) {
    mode = "live";
    text = "Live";
  } else if (s === "waiting") {
    mode = "reconnecting";
    text = `Reconnecting in ${Math.max(1, Math.ceil((live.retryAt - Date.now()) / 1000))} s…`;
    setTimeout(renderConn, 1000);
  } else if (s === "ended") {
    mode = "ended";
    text = live.endReason === "session" ? "Your session has ended – reload to log in" : "Not live";
  } else if (s === "open" && answered.length && answered.every((a) => a === "refused")) {
    mode = "ended";
    text = "Live counts are not available";
  }
  conn.dataset.state = mode;
  if (connText.textContent !== text) connText.textContent = text;
}

function followTopic(topic) {
  follow(topic, {
    onJoined: (frame) => {
      joined.set(topic, "joined");
      const state = frame.state || {};
      setCounts(topic, state.counts);
      if (Array.isArray(state.tickets)) {
        // Rows first seen now (opened while we were away) go on top, newest first.
        const rows = [...state.tickets].sort((a, b) => String(a.updated_at).localeCompare(String(b.updated_at)));
        for (const row of rows) put(row);
      }
      renderConn();
    },
    onFrame: (frame) => {
      if (frame.type === "counters") setCounts(topic, frame.counts);
      else if (frame.type === "ticket") put(frame.ticket, { flash: true });
      else if (frame.type === "ticket_gone") drop(frame.id);
    },
    onRefused: (error) => {
      joined.set(topic, "refused");
      console.info(`livesupport: live list ${topic} refused:`, error.code);
      renderConn();
    },
  });
}

if (board && list) {
  live.addEventListener("state", () => {
    if (live.state !== "open") joined.clear();
    renderConn();
  });
  for (const topic of (board.dataset.topics || "").split(/\s+/).filter(Boolean)) followTopic(topic);
  renderConn();
  startLive();
}
