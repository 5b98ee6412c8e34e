// Staff: the status and next-update form in the action bar, and the status badge everyone sees.
import { CLOSED_STATUSES, statusLabel } from "./format.js";
import { newRef } from "./socket.js";
import { els, isStaff, page, pending, state, topic } from "./ticket_core.js";
import { sendOrQueue } from "./ticket_outbox.js";
import { promise } from "./ticket_parts.js";

export function setStatus(status) {
  state.status = status;
  page.dataset.status = status;
  els.status.textContent = statusLabel(status, isStaff);
  els.status.dataset.status = status;
  els.status.className = `badge status status-${status}`;
  if (els.statusSelect && !state.statusDirty) els.statusSelect.value = status;
  promise.setStatus(status);
}

export function statusSaved() {
  state.statusDirty = false;
  if (!els.statusSave) return;
  els.statusSave.removeAttribute("aria-disabled");
  els.statusSave.textContent = "Update status";
  els.statusError.hidden = true;
  els.statusNote.textContent = "Saved – the client sees it now.";
  clearTimeout(statusSaved.timer);
  statusSaved.timer = setTimeout(() => { els.statusNote.textContent = ""; }, 5000);
}

export function statusFailed(error) {
  els.statusSave.removeAttribute("aria-disabled");
  els.statusSave.textContent = "Update status";
  els.statusError.textContent = error.message || "The status could not be changed.";
  els.statusError.hidden = false;
}

/** A solved or closed ticket promises no next update: the field empties and rests while one of them is chosen. */
function promiseFieldFollowsStatus() {
  const solved = CLOSED_STATUSES.has(els.statusSelect.value);
  if (solved) els.nextUpdateInput.value = "";
  els.nextUpdateInput.disabled = solved;
}

if (els.statusForm) {
  els.statusSelect.addEventListener("change", promiseFieldFollowsStatus);
  els.statusForm.addEventListener("input", () => { state.statusDirty = true; });
  els.statusForm.addEventListener("change", () => { state.statusDirty = true; });
  els.statusForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (els.statusSave.getAttribute("aria-disabled") === "true") return;
    const value = els.nextUpdateInput.value;
    let next = null;
    if (value) {
      const at = new Date(value);
      if (Number.isNaN(at.getTime())) {
        statusFailed({ message: "That date and time is not complete." });
        return;
      }
      next = at.toISOString();
    }
    els.statusError.hidden = true;
    els.statusNote.textContent = "";
    els.statusSave.setAttribute("aria-disabled", "true");
    els.statusSave.textContent = "Saving…";
    const ref = newRef("status");
    const frame = { type: "status", topic, status: els.statusSelect.value, next_update_at: next, ref };
    pending.set(ref, { kind: "status", frame, li: null, generation: null });
    sendOrQueue(ref);
  });
}
