// The composer: drafts kept per ticket, internal notes, files, "send anyway", and typing.
import { createAttachments } from "./attachments.js";
import { live } from "./socket.js";
import { createThreads } from "./threads.js";
import { scrollToEnd } from "./ticket_conversation.js";
import { draftKey, els, isStaff, page, pending, state, ticketId, topic, TYPING_SEND_EVERY_MS } from "./ticket_core.js";
import { sendChat } from "./ticket_outbox.js";
import { choice, choiceLabel, choose, clearChoice } from "./ticket_send_status.js";

export const threads = createThreads({
  // A reply to an internal note stays internal: the server refuses a public one.
  onSet: (parent) => {
    if (parent?.dataset.visibility === "internal" && els.internal && !els.internal.checked) {
      els.internal.checked = true;
      applyComposerMode();
      saveDraft();
    }
  },
});
export const attachments = createAttachments({
  ticketId,
  maxBytes: Number(page.dataset.maxUpload) || 0,
  onChange: (error) => { if (error) showComposerError(error); },
});

export function composerVisibility() {
  return isStaff && els.internal && els.internal.checked ? "internal" : "public";
}

// The draft is kept per ticket in this browser, with whether it was an internal note,
// so a reload, a crash or a lost session loses nothing and never turns a note into a reply.
export function loadDraft() {
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem(draftKey) || "null");
  } catch { /* storage off, or an old value */ }
  if (!saved || typeof saved.text !== "string" || !saved.text || els.message.value) return;
  els.message.value = saved.text;
  if (els.internal && saved.internal) els.internal.checked = true;
}

export function saveDraft() {
  try {
    let text = els.message.value;
    let internal = Boolean(els.internal && els.internal.checked && text);
    // Messages not yet stored are kept too.
    for (const entry of pending.values()) {
      if (entry.kind !== "chat") continue;
      text = text ? `${entry.frame.body}\n\n${text}` : entry.frame.body;
      if (entry.frame.visibility === "internal") internal = true;
    }
    if (text) localStorage.setItem(draftKey, JSON.stringify({ text, internal }));
    else localStorage.removeItem(draftKey);
  } catch { /* storage may be off */ }
}

export function restoreToComposer(frame) {
  // A refused "send and set" keeps its status for the next try ("Send anyway" included).
  if (frame.status) choose(frame.status);
  if (frame.reply_to && !threads.replyTo) threads.set(frame.reply_to);
  const current = els.message.value;
  if (!current.trim()) els.message.value = frame.body;
  else if (!current.includes(frame.body)) els.message.value = `${frame.body}\n\n${current}`;
  // An internal note must never go out as a public reply by accident.
  if (els.internal) {
    if (frame.visibility === "internal") els.internal.checked = true;
    else if (!current.trim()) els.internal.checked = false;
    applyComposerMode();
  }
  saveDraft();
}

export function showComposerError(error) {
  const conflict = error.code === "conflict";
  els.composerErrorText.textContent = conflict
    ? "New messages arrived while you were writing. Read them, then send your message again – or send it anyway."
    : error.message || "The message could not be sent. Please try again.";
  els.sendAnyway.hidden = !conflict;
  els.composerError.hidden = false;
  els.composerError.dataset.code = error.code || "error";
  if (conflict) scrollToEnd(true);
}

export function hideComposerError() {
  els.composerError.hidden = true;
  els.sendAnyway.hidden = true;
  els.composerErrorText.textContent = "";
}

export function applyComposerMode() {
  if (!els.internal) return;
  const internal = els.internal.checked;
  els.composer.dataset.mode = internal ? "internal" : "public";
  els.internalBanner.hidden = !internal;
  els.messageLabel.textContent = internal ? "Note for the team" : "Reply to the client";
  els.message.placeholder = internal ? "Write a note for the team – the client will not see it…" : "Write to the client…";
  if (els.send.getAttribute("aria-disabled") !== "true") els.send.textContent = sendLabel();
}

export function sendLabel() {
  const verb = els.internal && els.internal.checked ? "Add note" : "Send";
  return choice.status ? `${verb} and set ${choiceLabel()}` : verb;
}

/** Text and files go together over HTTP; the text stays in the composer until they are stored. */
export async function submitWithFiles(body) {
  if (attachments.busy) return;
  hideComposerError();
  els.send.setAttribute("aria-disabled", "true");
  els.send.textContent = "Sending…";
  const result = await attachments.upload({
    body: body.trim() ? body : "",
    visibility: composerVisibility(),
    replyTo: threads.replyTo,
  });
  els.send.removeAttribute("aria-disabled");
  els.send.textContent = sendLabel();
  if (!result.ok) {
    showComposerError(result.error);
    return;
  }
  // What was typed during the upload is kept.
  const now = els.message.value;
  els.message.value = now.startsWith(body) ? now.slice(body.length).trimStart() : now;
  threads.clear();
  saveDraft();
}

export function submitComposer({ force = false } = {}) {
  const body = els.message.value;
  if (attachments.hasFiles) {
    if (choice.status) {
      showComposerError({ code: "files_and_status", message: "Files go on their own: send them first, then set the status." });
      return;
    }
    submitWithFiles(body);
    return;
  }
  if (!body.trim()) {
    showComposerError({ code: "empty", message: "Write a message first." });
    els.message.focus();
    return;
  }
  // The visibility is the composer's as it is now: restoreToComposer put it back as it was.
  hideComposerError();
  els.message.value = "";
  state.lastTypingSent = 0;
  const replyTo = threads.replyTo;
  threads.clear();
  const { status, nextUpdateMinutes } = choice;
  const nextUpdateAt = status && nextUpdateMinutes
    ? new Date(Date.now() + nextUpdateMinutes * 60_000).toISOString()
    : undefined;
  sendChat(body, { force, replyTo, status, nextUpdateAt });
  clearChoice();
  saveDraft();
  els.message.focus();
}

els.composer.addEventListener("submit", (ev) => {
  ev.preventDefault();
  submitComposer();
});
els.sendAnyway.addEventListener("click", () => submitComposer({ force: true }));
els.message.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
    ev.preventDefault();
    submitComposer();
  }
});
els.message.addEventListener("input", () => {
  saveDraft();
  if (!els.composerError.hidden && els.composerError.dataset.code === "empty") hideComposerError();
  const now = Date.now();
  if (els.message.value.trim() && state.ready && now - state.lastTypingSent >= TYPING_SEND_EVERY_MS) {
    const frame = { type: "typing", topic };
    frame.visibility = isStaff && els.internal && els.internal.checked ? "internal" : "public";
    if (live.send(frame)) state.lastTypingSent = now;
  }
});
if (els.internal) {
  els.internal.addEventListener("change", () => {
    applyComposerMode();
    state.lastTypingSent = 0;
    saveDraft();
  });
}
window.addEventListener("beforeunload", (ev) => {
  saveDraft();
  if ([...pending.values()].some((e) => e.kind === "chat")) {
    ev.preventDefault();
    ev.returnValue = "";
  }
});

