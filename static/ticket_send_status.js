// Staff: "Send and set a status" from the composer's split button, one server operation (a chat frame with a
// status). A canned reply announces its status with a "macro:applied" event on the textarea; it is preselected.
import { statusLabel } from "./format.js";
import { applyComposerMode, submitComposer } from "./ticket_composer.js";
import { els, isStaff } from "./ticket_core.js";

/** The status the next message sets ("" for none), and the next update it promises, in minutes. */
export const choice = { status: "", nextUpdateMinutes: 0 };
const STATUSES = new Set(["new", "triage", "in_progress", "waiting_on_client", "resolved", "closed"]);

const menu = document.getElementById("send-menu");
const note = document.getElementById("send-status-note");

export function choiceLabel() {
  return statusLabel(choice.status, true);
}

function render() {
  for (const item of menu?.querySelectorAll("[data-send-status]") || []) {
    item.setAttribute("role", "menuitemradio");
    item.setAttribute("aria-checked", item.dataset.sendStatus === choice.status ? "true" : "false");
  }
  if (note) {
    const hours = choice.nextUpdateMinutes / 60;
    const when = !choice.nextUpdateMinutes ? ""
      : hours >= 1 && Number.isInteger(hours) ? `, next update in ${hours} h` : `, next update in ${choice.nextUpdateMinutes} min`;
    note.textContent = choice.status ? `Sending will also set the status to ${choiceLabel()}${when}.` : "";
    note.hidden = !choice.status;
  }
  applyComposerMode();
}

export function choose(status, nextUpdateMinutes = 0) {
  choice.status = STATUSES.has(status) ? status : "";
  choice.nextUpdateMinutes = choice.status && Number.isFinite(nextUpdateMinutes) && nextUpdateMinutes > 0
    ? Math.min(Math.round(nextUpdateMinutes), 60 * 24 * 60) : 0;
  render();
}

export function clearChoice() {
  if (choice.status) choose("");
}

if (isStaff && menu) {
  // A menu item sends now, with its status.
  menu.addEventListener("click", (ev) => {
    const item = ev.target.closest("[data-send-status]");
    if (!item) return;
    menu.hidden = true;
    document.getElementById("send-options")?.setAttribute("aria-expanded", "false");
    choose(item.dataset.sendStatus, choice.status === item.dataset.sendStatus ? choice.nextUpdateMinutes : 0);
    submitComposer();
  });
  els.message.addEventListener("macro:applied", (ev) => {
    const detail = ev.detail && typeof ev.detail === "object" ? ev.detail : {};
    choose(typeof detail.status === "string" ? detail.status : "", Number(detail.next_update_minutes) || 0);
  });
  render();
}
