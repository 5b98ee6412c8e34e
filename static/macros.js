// Canned replies in the composer. Attaches to a textarea marked data-macros="<ticket id>" (staff only).
// "/" at the very start of the box, or the "Canned reply" button, opens a picker that filters as you type;
// arrows, Enter and Esc work, and so does a tap. The chosen reply is filled in by the server for this ticket
// and inserted. When it also sets a status or the next update, a "macro:applied" CustomEvent is dispatched on
// the textarea with detail {status, next_update_minutes} (the composer's "send and set" control listens), and
// a small note says what will be set.
import { h } from "./dom.js";
import { statusLabel } from "./format.js";
import { csrfToken } from "./socket.js";

const box = document.querySelector("textarea[data-macros]");
const SHOWN = 8;

let macros = null; // loaded on first use
let loading = null;
let open = false;
let fromSlash = false; // opened by "/" in the box (the query is what follows it) or by the button
let matches = [];
let active = 0;
let seq = 0;

function ticketId() {
  return Number(box.dataset.macros);
}

async function load() {
  if (macros) return macros;
  loading ??= fetch("/api/macros", { headers: { Accept: "application/json" } })
    .then(async (r) => {
      if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error?.message || `error ${r.status}`);
      macros = (await r.json()).macros;
      return macros;
    })
    .finally(() => { loading = null; });
  return loading;
}

function build() {
  const id = `macro-picker-${++seq}`;
  const search = h("input", {
    type: "search", className: "macro-search", placeholder: "Find a canned reply", "aria-label": "Find a canned reply",
    autocomplete: "off", "aria-controls": `${id}-list`, hidden: true,
  });
  const list = h("ul", { className: "macro-options", id: `${id}-list`, role: "listbox", "aria-label": "Canned replies" });
  const status = h("p", { className: "macro-picker-status", role: "status" });
  const panel = h("div", { className: "macro-picker", id, hidden: true },
    h("div", { className: "macro-picker-head" },
      h("span", { className: "macro-picker-title" }, "Canned replies"),
      h("a", { href: "/macros", className: "macro-manage", target: "_blank" }, "Manage"),
      h("button", { type: "button", className: "button button-quiet button-small macro-close" }, "Close")),
    search, list, status);
  const button = h("button", {
    type: "button", className: "button button-quiet macro-open", "aria-haspopup": "listbox",
    "aria-expanded": "false", "aria-controls": id, title: "Insert a canned reply (or type / at the start)",
  }, "Canned reply");
  const note = h("p", { className: "macro-note", role: "status", hidden: true },
    h("span", { className: "macro-note-text" }),
    h("button", { type: "button", className: "button button-quiet button-small macro-note-clear" }, "Don’t set"));
  return { panel, search, list, status, button, note };
}

const ui = box ? build() : null;

function query() {
  if (fromSlash) return box.value.slice(1, box.selectionEnd).trim().toLowerCase();
  return ui.search.value.trim().toLowerCase();
}

function ranked(q) {
  if (!q) return macros.slice(0, 50);
  const inTitle = macros.filter((m) => m.title.toLowerCase().includes(q));
  const inBody = macros.filter((m) => !inTitle.includes(m) && m.body.toLowerCase().includes(q));
  return [...inTitle.sort((a, b) => a.title.toLowerCase().indexOf(q) - b.title.toLowerCase().indexOf(q)), ...inBody];
}

function sets(m) {
  const parts = [];
  if (m.status) parts.push(`sets ${statusLabel(m.status)}`);
  if (m.next_update_minutes) parts.push(`next update in ${minutes(m.next_update_minutes)}`);
  return parts.join(", ");
}

function minutes(n) {
  if (n % 1440 === 0) return n === 1440 ? "1 day" : `${n / 1440} days`;
  if (n % 60 === 0) return n === 60 ? "1 hour" : `${n / 60} hours`;
  return `${n} min`;
}

function draw() {
  const q = query();
  matches = ranked(q).slice(0, SHOWN);
  active = Math.min(active, Math.max(0, matches.length - 1));
  ui.list.replaceChildren(...matches.map((m, i) => h("li", {
    id: `${ui.panel.id}-o${m.id}`, role: "option", className: "macro-option",
    "aria-selected": i === active ? "true" : "false", dataset: { macroId: String(m.id), index: String(i) },
  },
  h("span", { className: "macro-option-title" }, m.title, m.shared ? h("span", { className: "macro-tag" }, "Shared") : null),
  h("span", { className: "macro-option-body" }, m.body.replace(/\s+/g, " ").slice(0, 120)),
  sets(m) ? h("span", { className: "macro-option-sets" }, sets(m)) : null)));
  const current = matches[active];
  const target = fromSlash ? box : ui.search;
  if (current) target.setAttribute("aria-activedescendant", `${ui.panel.id}-o${current.id}`);
  else target.removeAttribute("aria-activedescendant");
  if (!macros.length) {
    ui.status.replaceChildren("No canned replies yet. ", h("a", { href: "/macros", target: "_blank" }, "Write one"),
      " and it shows here.");
  } else if (!matches.length) {
    ui.status.textContent = `No canned reply matches “${q}”.`;
  } else {
    ui.status.textContent = fromSlash ? "↑ ↓ to choose, Enter to insert, Esc to close." : "";
  }
  ui.list.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: "nearest" });
}

async function show(bySlash) {
  fromSlash = bySlash;
  open = true;
  active = 0;
  ui.panel.hidden = false;
  ui.search.hidden = bySlash;
  ui.button.setAttribute("aria-expanded", "true");
  (bySlash ? box : ui.search).setAttribute("aria-controls", ui.list.id);
  box.setAttribute("aria-expanded", "true");
  if (!macros) {
    ui.status.textContent = "Loading your canned replies…";
    ui.list.replaceChildren();
    try {
      await load();
    } catch (err) {
      ui.status.textContent = `Canned replies could not be loaded: ${err.message}`;
      return;
    }
  }
  if (!open) return;
  draw();
  if (!bySlash) ui.search.focus();
}

function hide({ focus = false } = {}) {
  open = false;
  ui.panel.hidden = true;
  ui.search.value = "";
  ui.button.setAttribute("aria-expanded", "false");
  box.setAttribute("aria-expanded", "false");
  box.removeAttribute("aria-activedescendant");
  if (focus) box.focus();
}

function setNote(m) {
  const parts = [];
  if (m.status) parts.push(`status “${statusLabel(m.status)}”`);
  if (m.next_update_minutes) parts.push(`next update in ${minutes(m.next_update_minutes)}`);
  ui.note.hidden = !parts.length;
  ui.note.querySelector(".macro-note-text").textContent = `Sending will also set: ${parts.join(" · ")}.`;
}

async function choose(m) {
  if (!m) return;
  ui.status.textContent = `Filling in “${m.title}”…`;
  let answer;
  try {
    const r = await fetch(`/api/macros/${encodeURIComponent(m.id)}/render`, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify({ ticket: ticketId() }),
    });
    answer = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(answer.error?.message || `The server answered ${r.status}.`);
  } catch (err) {
    ui.status.textContent = `That reply could not be inserted: ${err.message}`;
    return;
  }
  let start = box.selectionStart;
  let end = box.selectionEnd;
  if (fromSlash) { // the "/query" typed at the start makes way for the reply
    start = 0;
    end = Math.max(end, box.value.indexOf("\n") === -1 ? box.value.length : box.value.indexOf("\n"));
  }
  box.value = box.value.slice(0, start) + answer.body + box.value.slice(end);
  const caret = start + answer.body.length;
  hide({ focus: true });
  box.setSelectionRange(caret, caret);
  box.dispatchEvent(new Event("input", { bubbles: true })); // the draft and typing notices follow as if typed
  if (answer.status || answer.next_update_minutes) {
    const detail = { status: answer.status ?? null, next_update_minutes: answer.next_update_minutes ?? null };
    box.dispatchEvent(new CustomEvent("macro:applied", { bubbles: true, detail }));
    setNote(detail);
  } else {
    ui.note.hidden = true;
  }
}

function move(by) {
  if (!matches.length) return;
  active = (active + by + matches.length) % matches.length;
  draw();
}

/** Keys while the picker is open; true when the key was the picker's. */
function key(ev) {
  if (!open) return false;
  if (ev.key === "ArrowDown") move(1);
  else if (ev.key === "ArrowUp") move(-1);
  else if (ev.key === "Enter" && !(ev.ctrlKey || ev.metaKey || ev.shiftKey)) choose(matches[active]);
  else if (ev.key === "Escape") hide({ focus: true });
  else return false;
  ev.preventDefault();
  ev.stopPropagation();
  return true;
}

if (box && ui) {
  box.insertAdjacentElement("afterend", ui.panel);
  ui.panel.insertAdjacentElement("afterend", ui.note);
  const bar = box.form?.querySelector(".composer-bar");
  if (bar) bar.prepend(ui.button);
  else ui.note.insertAdjacentElement("afterend", ui.button);
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-expanded", "false");

  // Capture on the form: the picker's keys are handled before the composer's own (Ctrl + Enter still sends).
  (box.form || box.parentElement).addEventListener("keydown", (ev) => {
    if (ev.target === box || ev.target === ui.search) key(ev);
  }, true);
  box.addEventListener("input", () => {
    const slash = box.value.startsWith("/") && !box.value.slice(0, box.selectionEnd).includes("\n");
    if (slash && !open) show(true);
    else if (!slash && open && fromSlash) hide();
    else if (open && fromSlash) { active = 0; draw(); }
    if (!box.value.trim()) ui.note.hidden = true;
  });
  ui.search.addEventListener("input", () => { active = 0; draw(); });
  ui.button.addEventListener("click", () => (open ? hide({ focus: true }) : show(false)));
  ui.panel.querySelector(".macro-close").addEventListener("click", () => hide({ focus: true }));
  ui.list.addEventListener("click", (ev) => {
    const li = ev.target.closest("li[data-macro-id]");
    if (li) choose(matches[Number(li.dataset.index)]);
  });
  ui.list.addEventListener("mousedown", (ev) => ev.preventDefault()); // keep the caret in the box
  ui.note.querySelector(".macro-note-clear").addEventListener("click", () => {
    ui.note.hidden = true;
    box.dispatchEvent(new CustomEvent("macro:applied", { bubbles: true,
      detail: { status: null, next_update_minutes: null } }));
    box.focus();
  });
  box.form?.addEventListener("submit", () => { ui.note.hidden = true; });
  document.addEventListener("click", (ev) => {
    if (open && !ui.panel.contains(ev.target) && ev.target !== ui.button && ev.target !== box) hide();
  });
}
