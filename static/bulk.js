// Staff: tick tickets in the list and change them at once (status, priority, engineers) through
// POST /api/tickets/bulk. Rows are redrawn by the live list (queue.js); a tick survives that, by ticket id.
import { h } from "./dom.js";
import { statusLabel } from "./format.js";
import { csrfToken } from "./socket.js";

const bar = document.getElementById("bulk-bar");
const list = document.getElementById("ticket-list");
const all = document.getElementById("bulk-all");
const count = document.getElementById("bulk-count");
const clear = document.getElementById("bulk-clear");
const form = document.getElementById("bulk-form");
const apply = document.getElementById("bulk-apply");
const result = document.getElementById("bulk-result");
const CHUNK = 100; // the most one request takes

/** ids (strings) of the ticked tickets */
const picked = new Set();
let busy = false;

function rows() {
  return [...list.querySelectorAll("li[data-ticket-id]")];
}

function subjectOf(li) {
  return li.querySelector(".ticket-subject")?.textContent.replace(/^New to you\s*/, "").trim() || "";
}

/** A checkbox beside the row's link (never inside it: a click on it must not open the ticket). */
function equip(li) {
  const id = li.dataset.ticketId;
  let box = li.querySelector("input[data-bulk-pick]");
  if (!box) {
    box = h("input", { type: "checkbox", dataset: { bulkPick: id },
      "aria-label": `Select ticket #${id}: ${subjectOf(li)}` });
    li.prepend(h("label", { className: "bulk-pick" }, box));
    li.classList.add("has-pick");
  }
  box.checked = picked.has(id);
  li.classList.toggle("is-picked", box.checked);
}

function render() {
  const here = new Set(rows().map((li) => li.dataset.ticketId));
  for (const id of [...picked]) if (!here.has(id)) picked.delete(id); // a ticket that left the list
  const n = picked.size;
  count.textContent = n === 0 ? "Select tickets to change several at once."
    : n === 1 ? "1 ticket selected" : `${n} tickets selected`;
  all.checked = n > 0 && n === here.size;
  all.indeterminate = n > 0 && n < here.size;
  form.hidden = n === 0;
  clear.hidden = n === 0;
  bar.dataset.state = n ? "picking" : "idle";
  apply.disabled = busy;
  apply.textContent = busy ? "Applying…" : n === 1 ? "Apply to 1 ticket" : `Apply to ${n} tickets`;
}

function toggle(id, on) {
  if (on) picked.add(id);
  else picked.delete(id);
  const li = list.querySelector(`li[data-ticket-id="${CSS.escape(id)}"]`);
  if (li) equip(li);
}

async function loadEngineers() {
  try {
    const r = await fetch("/api/staff", { headers: { Accept: "application/json" } });
    if (!r.ok) return;
    const { staff } = await r.json();
    for (const select of [form.elements.assign, form.elements.unassign]) {
      for (const p of staff) {
        select.append(h("option", { value: String(p.id) }, p.tier ? `${p.name} (Level ${p.tier})` : p.name));
      }
    }
  } catch {
    // Without the list one can still change the status and priority.
  }
}

function wanted() {
  const body = {};
  const f = form.elements;
  if (f.status.value) body.status = f.status.value;
  if (f.priority.value) body.priority = f.priority.value;
  if (f.assign.value) body.assign = [Number(f.assign.value)];
  if (f.unassign.value) body.unassign = [Number(f.unassign.value)];
  return body;
}

function say(kind, text, refusals = []) {
  result.hidden = false;
  result.dataset.kind = kind;
  result.replaceChildren(h("p", { className: "bulk-result-text" }, text));
  if (refusals.length) {
    result.append(h("ul", { className: "bulk-refusals" }, refusals.map((x) => h("li", {},
      h("a", { href: `/tickets/${encodeURIComponent(x.id)}` }, `#${x.id}`), `: ${x.error?.message || "not changed"}`))));
  }
}

function describe(body) {
  const parts = [];
  if (body.priority) parts.push(`priority ${body.priority}`);
  if (body.status) parts.push(`status “${statusLabel(body.status)}”`);
  const name = (select) => select.selectedOptions[0]?.textContent || "";
  if (body.assign) parts.push(`assigned ${name(form.elements.assign)}`);
  if (body.unassign) parts.push(`took ${name(form.elements.unassign)} off`);
  return parts.join(", ");
}

async function submit(event) {
  event.preventDefault();
  if (busy || picked.size === 0) return;
  const body = wanted();
  if (!Object.keys(body).length) {
    say("error", "Choose what to change first: a status, a priority, or an engineer to assign or unassign.");
    return;
  }
  const ids = [...picked].map(Number);
  busy = true;
  bar.setAttribute("aria-busy", "true");
  render();
  const updated = [];
  const refused = [];
  try {
    for (let i = 0; i < ids.length; i += CHUNK) {
      say("progress", `Changing ${ids.length} ticket${ids.length === 1 ? "" : "s"}… ${i} done.`);
      const r = await fetch("/api/tickets/bulk", {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({ ...body, ids: ids.slice(i, i + CHUNK) }),
      });
      const answer = await r.json().catch(() => ({}));
      if (!r.ok) {
        throw new Error(answer.error?.message || `The server answered ${r.status}.`);
      }
      updated.push(...answer.updated);
      refused.push(...answer.refused);
    }
  } catch (err) {
    busy = false;
    bar.removeAttribute("aria-busy");
    say("error", `Nothing more was changed: ${err.message}${updated.length ? ` (${updated.length} ticket(s) were changed before this.)` : ""}`);
    render();
    return;
  }
  busy = false;
  bar.removeAttribute("aria-busy");
  for (const id of updated) toggle(String(id), false);
  const what = describe(body);
  const done = updated.length === 1 ? "1 ticket" : `${updated.length} tickets`;
  if (refused.length === 0) {
    say("done", `Done: ${done} changed (${what}).`);
  } else {
    say(updated.length ? "partial" : "error",
      `${updated.length ? `${done} changed (${what}). ` : ""}${refused.length === 1 ? "1 ticket was not changed:" : `${refused.length} tickets were not changed:`}`,
      refused);
  }
  form.reset();
  render();
}

if (bar && list) {
  list.classList.add("has-bulk");
  for (const li of rows()) equip(li);
  // The live list replaces a row when its ticket changes and adds new ones on top: equip them as they come.
  new MutationObserver((changes) => {
    for (const c of changes) for (const node of c.addedNodes) {
      if (node instanceof HTMLLIElement && node.dataset.ticketId) equip(node);
    }
    render();
  }).observe(list, { childList: true });
  list.addEventListener("change", (event) => {
    const box = event.target.closest("input[data-bulk-pick]");
    if (box) {
      toggle(box.dataset.bulkPick, box.checked);
      render();
    }
  });
  all.addEventListener("change", () => {
    for (const li of rows()) toggle(li.dataset.ticketId, all.checked);
    render();
  });
  clear.addEventListener("click", () => {
    for (const id of [...picked]) toggle(id, false);
    result.hidden = true;
    render();
  });
  form.addEventListener("submit", submit);
  bar.hidden = false;
  render();
  loadEngineers();
}
