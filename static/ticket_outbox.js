// What I send that must be stored: the outbox (kept across reconnects), replies, and refusals.
import { live, newRef } from "./socket.js";
import { renderBanner } from "./ticket_banner.js";
import { composerVisibility, restoreToComposer, saveDraft, showComposerError } from "./ticket_composer.js";
import { chatLi, scrollToEnd, updatePlaceholder } from "./ticket_conversation.js";
import { els, me, pending, rendered, state, topic } from "./ticket_core.js";
import { statusFailed, statusSaved } from "./ticket_status.js";

export function adoptPending(kind, matches, seq) {
  for (const [ref, entry] of pending) {
    if (entry.kind !== kind || entry.generation === null) continue;
    if (!matches(entry.frame)) continue;
    pending.delete(ref);
    if (entry.li) entry.li.remove();
    if (kind === "status") statusSaved();
    if (!pending.size) saveDraft();
    return true;
  }
  return false;
}

export function sendOrQueue(ref) {
  const entry = pending.get(ref);
  if (!entry) return;
  if (state.ready && live.send(entry.frame)) {
    entry.generation = live.generation;
  }
  renderBanner();
}

export function flushOutbox() {
  for (const [ref, entry] of pending) {
    if (entry.generation === live.generation) continue;
    sendOrQueue(ref);
  }
}

/** A message; with `status`, the server stores it and the status change together, or neither. */
export function sendChat(body, { force = false, replyTo = null, status = "", nextUpdateAt = undefined } = {}) {
  const vis = composerVisibility();
  const ref = newRef("chat");
  const frame = { type: "chat", topic, body, visibility: vis, base_seq: state.lastSeq, ref };
  if (force) frame.force = true;
  if (replyTo) frame.reply_to = replyTo;
  if (status) {
    frame.status = status;
    if (nextUpdateAt !== undefined) frame.next_update_at = nextUpdateAt;
  }
  const li = chatLi({ seq: null, actor: { ...me }, at: null, body, visibility: vis, pendingLabel: "Sending…", replyTo });
  li.dataset.ref = ref;
  pending.set(ref, { kind: "chat", frame, li, generation: null });
  els.messages.append(li);
  updatePlaceholder();
  scrollToEnd(true);
  sendOrQueue(ref);
}

export function onReply(frame) {
  if (frame.ref && frame.ref === state.joinRef) {
    if (frame.ok === false) joinRefused(frame.error || {});
    return;
  }
  const entry = pending.get(frame.ref);
  if (!entry) return;
  pending.delete(frame.ref);
  if (frame.ok) {
    if (entry.kind === "chat") {
      const seq = Number(frame.seq);
      if (Number.isFinite(seq) && rendered.has(seq)) {
        entry.li.remove();
      } else if (Number.isFinite(seq)) {
        // Stored; its event is on the way and will take this place.
        entry.li.classList.remove("is-pending");
        entry.li.dataset.seq = String(seq);
        entry.li.dataset.provisional = "true";
        entry.li.querySelector(".msg-state")?.remove();
        rendered.set(seq, entry.li);
      } else {
        entry.li.classList.remove("is-pending");
        entry.li.querySelector(".msg-state")?.remove();
      }
    } else if (entry.kind === "status") {
      statusSaved();
    }
    saveDraft();
    renderBanner();
    return;
  }
  const error = frame.error || {};
  if (entry.kind === "chat") {
    entry.li?.remove();
    updatePlaceholder();
    restoreToComposer(entry.frame);
    showComposerError(error);
  } else if (entry.kind === "status") {
    statusFailed(error);
  }
  renderBanner();
}

export function joinRefused(error) {
  if (error.code === "unauthorized") {
    live.end("session");
  } else if (error.code === "forbidden" || error.code === "not_found") {
    live.end("forbidden");
  } else {
    showComposerError(error);
  }
}

export function onServerError(frame) {
  const error = frame.error || {};
  if (error.code === "unauthorized") {
    live.end("session");
    return;
  }
  console.warn("livesupport:", error.code, error.message);
  if (error.code === "rate_limited" || error.code === "policy") showComposerError(error);
}

