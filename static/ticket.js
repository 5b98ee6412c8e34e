// The live ticket page: conversation, presence, typing, status, over the page's one WebSocket.
// Tasks, the team, guidance, replies and files live in their own modules; this one routes to them.
// User content is only ever put in the page as text (textContent), never as HTML.
import { attachmentList, createAttachments } from "./attachments.js";
import { h, joinNames, roleBadge, timeEl } from "./dom.js";
import { CLOSED_STATUSES, initials, isStaffRole, parseInstant, shortTime, statusLabel } from "./format.js";
import { createGuidance } from "./guidance.js";
import { createHuddle } from "./huddle.js";
import { createNextUpdate } from "./nextupdate.js";
import { live, newRef, startLive } from "./socket.js";
import { createTasks } from "./tasks.js";
import { createThreads, quoteEl } from "./threads.js";

const TYPING_SEND_EVERY_MS = 3_000;
const TYPING_SHOWN_MS = 5_000;
const REPLAY_GRACE_MS = 4_000;
const SEEN_EVERY_MS = 2_000;

const page = document.getElementById("ticket-page");
const ticketId = page.dataset.ticketId;
const me = {
  id: String(page.dataset.meId),
  name: page.dataset.meName || "",
  role: page.dataset.meRole || "",
  tier: Number(page.dataset.meTier) || undefined,
};
const isStaff = page.dataset.staff === "true";
const canPin = page.dataset.canPin === "true";
const topic = `ticket:${ticketId}`;
const draftKey = `livesupport:draft:${ticketId}`;

const $ = (id) => document.getElementById(id);
const els = {
  conn: $("conn"),
  connState: $("conn-state"),
  connText: $("conn-text"),
  connDetail: $("conn-detail"),
  connRetry: $("conn-retry"),
  status: $("status"),
  viewerCount: $("viewer-count"),
  presence: $("presence"),
  workingNote: $("working-note"),
  messages: $("messages"),
  placeholder: $("messages-placeholder"),
  typing: $("typing"),
  composer: $("composer"),
  message: $("message"),
  messageLabel: $("message-label"),
  send: $("send"),
  internal: $("internal"),
  internalBanner: $("internal-banner"),
  composerError: $("composer-error"),
  composerErrorText: $("composer-error-text"),
  sendAnyway: $("send-anyway"),
  statusForm: $("status-form"),
  statusSelect: $("status-select"),
  nextUpdateInput: $("next-update-input"),
  statusSave: $("status-save"),
  statusError: $("status-error"),
  statusNote: $("status-note"),
  workingToggle: $("working-toggle"),
};

const state = {
  lastSeq: 0,
  ready: false, // joined on this connection and the replay is in
  replayTo: 0,
  replayTimer: 0,
  joinRef: null,
  status: page.dataset.status || "",
  seenSent: 0,
  seenTimer: 0,
  working: false, // what I asked for; re-announced after each reconnect
  statusDirty: false,
  lastTypingSent: 0,
  typers: new Map(), // user id -> {name, until}
  everJoined: false,
};

/** seq -> <li>; a provisional <li> (from a reply) is replaced when its event arrives. */
const rendered = new Map();
/** ref -> {kind, frame, li, generation}: sent and not yet answered, or waiting to be sent. */
const pending = new Map();

const promise = createNextUpdate({
  page, ticketId, input: els.nextUpdateInput, inputDirty: () => state.statusDirty,
});
const tasks = createTasks({ topic, isStaff, canManage: page.dataset.canTasks === "true" });
const huddle = createHuddle({ topic, me, isStaff });
const guidance = createGuidance({ topic, canPin });
const threads = createThreads({
  // A reply to an internal note stays internal: the server refuses a public one.
  onSet: (parent) => {
    if (parent?.dataset.visibility === "internal" && els.internal && !els.internal.checked) {
      els.internal.checked = true;
      applyComposerMode();
      saveDraft();
    }
  },
});
const attachments = createAttachments({
  ticketId,
  maxBytes: Number(page.dataset.maxUpload) || 0,
  onChange: (error) => { if (error) showComposerError(error); },
});

// ---------------------------------------------------------------------------
// Connection banner

let bannerTimer = 0;

function hasUnsent() {
  for (const entry of pending.values()) if (entry.generation !== live.generation || !state.ready) return true;
  return false;
}

function renderBanner() {
  clearTimeout(bannerTimer);
  const s = live.state;
  let mode;
  let text;
  let detail = "";
  els.connRetry.hidden = true;
  if (s === "ended") {
    mode = "ended";
    if (live.endReason === "session") {
      // The words themselves are the link, so the banner reads as one sentence.
      text = "Your session has ended – please log in again";
      if (els.connText.textContent !== text) {
        const next = encodeURIComponent(location.pathname);
        els.connText.replaceChildren(
          "Your session has ended – please ",
          h("a", { href: `/login?next=${next}`, id: "conn-login", className: "conn-action" }, "log in again"),
        );
      }
    } else {
      text = "You do not have access to this ticket any more";
    }
  } else if (s === "open" && state.ready) {
    mode = "live";
    text = "Live";
  } else if (s === "waiting") {
    const seconds = Math.max(1, Math.ceil((live.retryAt - Date.now()) / 1000));
    const retryText = `Reconnecting in ${seconds} s…`;
    if (hasUnsent() || !navigator.onLine) {
      mode = "offline";
      text = "Offline – your message will be sent when we reconnect";
      detail = retryText;
    } else {
      mode = "reconnecting";
      text = retryText;
    }
    els.connRetry.hidden = false;
    bannerTimer = setTimeout(renderBanner, 1000 - (Date.now() % 1000) + 20);
  } else {
    mode = "connecting";
    text = state.everJoined || live.generation > 1 ? "Reconnecting…" : "Connecting…";
    if (hasUnsent()) detail = "Your message will be sent when we reconnect";
  }
  // Away from "Live", the banner floats at the top of the screen, so it is seen wherever one has scrolled to.
  els.conn.dataset.float = mode === "live" || (mode === "connecting" && !state.everJoined) ? "false" : "true";
  // Screen readers hear each change of state once, not every tick of the countdown.
  els.connState.setAttribute("aria-busy", mode === els.connState.dataset.state && s === "waiting" ? "true" : "false");
  els.connState.dataset.state = mode;
  if (els.connText.textContent !== text) els.connText.textContent = text;
  if (els.connDetail.textContent !== detail) els.connDetail.textContent = detail;
  els.connDetail.hidden = !detail;
  page.dataset.conn = mode;
}

live.addEventListener("state", () => {
  if (live.state !== "open") setNotReady();
  renderBanner();
});
els.connRetry.addEventListener("click", () => live.reconnectNow());

function setNotReady() {
  state.ready = false;
  clearTimeout(state.replayTimer);
  for (const entry of pending.values()) {
    if (entry.li) setPendingLabel(entry.li, "Sending…");
  }
}

// ---------------------------------------------------------------------------
// Joining and the replay

function join() {
  state.ready = false;
  state.joinRef = newRef("join");
  live.send({ type: "join", topic, since: state.lastSeq, ref: state.joinRef });
}
live.addEventListener("open", join);

function onJoined(frame) {
  if (frame.topic && frame.topic !== topic) return;
  live.markHealthy();
  state.everJoined = true;
  if (frame.state && typeof frame.state === "object") applyTicketState(frame.state);
  const upTo = Number(frame.seq) || 0;
  state.replayTo = upTo;
  // Joining marks the ticket reviewed up to here; `seen` moves it on.
  state.seenSent = Math.max(state.seenSent, upTo);
  if (upTo <= state.lastSeq) {
    replayDone();
  } else {
    clearTimeout(state.replayTimer);
    state.replayTimer = setTimeout(replayDone, REPLAY_GRACE_MS);
  }
}

function replayDone() {
  clearTimeout(state.replayTimer);
  if (state.ready || live.state !== "open") return;
  state.ready = true;
  els.messages.setAttribute("aria-busy", "false");
  updatePlaceholder();
  if (!page.dataset.scrolledOnce) {
    page.dataset.scrolledOnce = "true";
    scrollToEnd(true);
  }
  if (state.working) live.send({ type: "activity", topic, state: "working" });
  flushOutbox();
  renderBanner();
  scheduleSeen();
}

function applyTicketState(t) {
  if (typeof t.status === "string") setStatus(t.status);
  if ("next_update_at" in t) promise.set(t.next_update_at, t.next_update_source);
  tasks.applyState(t);
  huddle.applyState(t);
  guidance.applyState(t);
  if (typeof t.subject === "string" && t.subject) {
    const h1 = $("ticket-subject");
    if (h1 && h1.textContent !== t.subject) h1.textContent = t.subject;
  }
}

// ---------------------------------------------------------------------------
// Status and next update

function setStatus(status) {
  state.status = status;
  page.dataset.status = status;
  els.status.textContent = statusLabel(status, isStaff);
  els.status.dataset.status = status;
  els.status.className = `badge status status-${status}`;
  if (els.statusSelect && !state.statusDirty) els.statusSelect.value = status;
  promise.setStatus(status);
}

// ---------------------------------------------------------------------------
// The conversation

function updatePlaceholder() {
  const hasMessages = els.messages.querySelector("li.msg") !== null;
  if (hasMessages) {
    els.placeholder.hidden = true;
  } else {
    els.placeholder.hidden = false;
    els.placeholder.textContent = state.ready || state.everJoined
      ? "No messages yet."
      : "Loading the conversation…";
  }
}

function nearEnd() {
  const m = els.messages;
  return m.scrollHeight - m.scrollTop - m.clientHeight < 120;
}

function scrollToEnd(force = false) {
  const m = els.messages;
  if (m.scrollHeight > m.clientHeight + 2) {
    if (force || nearEnd()) m.scrollTop = m.scrollHeight;
  }
}

/** Put an event's <li> in seq order, before any message still being sent. */
function placeEvent(li, seq) {
  let before = null;
  for (const [other, otherLi] of rendered) {
    if (other > seq && otherLi.isConnected && (!before || other < Number(before.dataset.seq))) before = otherLi;
  }
  if (!before) before = els.messages.querySelector("li.msg.is-pending");
  els.messages.insertBefore(li, before);
}

function actorOf(ev) {
  const a = ev.actor && typeof ev.actor === "object" ? ev.actor : {};
  return { id: a.id === undefined || a.id === null ? "" : String(a.id), name: a.name || "Support desk", role: a.role || "", tier: a.tier };
}

function chatLi({ seq, actor, at, body, visibility, pendingLabel, replyTo, attachments: files }) {
  const own = actor.id === me.id;
  const internal = visibility === "internal";
  const staff = isStaffRole(actor.role);
  const classes = ["msg", "msg-chat"];
  if (internal) classes.push("msg-internal");
  if (own) classes.push("msg-own");
  classes.push(staff ? "msg-from-staff" : "msg-from-client");
  if (pendingLabel) classes.push("is-pending");
  const li = h("li", {
    className: classes.join(" "),
    dataset: { visibility: internal ? "internal" : "public", kind: "chat", actorId: actor.id },
  });
  if (seq !== null && seq !== undefined) {
    li.dataset.seq = String(seq);
    li.id = `msg-${seq}`;
  }
  if (replyTo) li.dataset.replyTo = String(replyTo);
  const head = h("div", { className: "msg-head" },
    h("span", { className: "msg-author" }, own ? `${actor.name} (you)` : actor.name),
    roleBadge(actor.role, actor.tier),
    at ? timeEl(at) : null,
  );
  const main = h("div", { className: "msg-main" },
    head,
    internal ? h("p", { className: "msg-label" }, "Internal note – staff only") : null,
    replyTo ? quoteEl(replyTo) : null,
    body ? h("div", { className: "msg-body" }, body) : null,
    attachmentList(files),
  );
  if (pendingLabel) {
    main.append(h("p", { className: "msg-state", role: "status" }, pendingLabel));
  } else if (seq !== null && seq !== undefined) {
    main.append(h("div", { className: "msg-actions" },
      h("button", { type: "button", className: "msg-action", dataset: { action: "reply", seq: String(seq) } },
        "Reply", h("span", { className: "visually-hidden" }, ` to ${actor.name}`)),
      internal && canPin
        ? h("button", { type: "button", className: "msg-action", "aria-pressed": "false", dataset: { action: "pin", seq: String(seq) } }, "Pin as guidance")
        : null,
    ));
  }
  li.append(h("span", { className: "avatar", "aria-hidden": "true" }, initials(actor.name)), main);
  return li;
}

function statusLine(ev, actor) {
  const data = ev.data || {};
  let text = `${actor.name} set the status to ${statusLabel(data.status, isStaff)}`;
  const at = parseInstant(data.next_update_at);
  if (at) text += `; next update by ${shortTime(at)}`;
  else if ("next_update_at" in data && !CLOSED_STATUSES.has(data.status)) text += "; no update scheduled";
  text += ".";
  return systemLi(ev, "status", text);
}

/** A small line in the conversation: a status change, someone assigned or brought in, a pin. */
function systemLi(ev, kind, text, extra = null) {
  return h("li", {
    className: `msg msg-system system-${kind}`,
    id: `msg-${ev.seq}`,
    dataset: { seq: String(ev.seq), visibility: ev.visibility === "internal" ? "internal" : "public", kind },
  },
  h("span", { className: "system-icon", "aria-hidden": "true" }),
  h("span", { className: "system-text" }, text, extra),
  ev.at ? timeEl(ev.at) : null,
  );
}

function memberLine(ev, actor) {
  const data = ev.data || {};
  const inviter = actor.id && actor.id !== String(data.user?.id) ? (actor.id === me.id ? "you" : actor.name) : "";
  const note = isStaff && typeof data.message === "string" && data.message
    ? h("span", { className: "system-quote" }, `“${data.message}”`)
    : null;
  return systemLi(ev, "member", huddle.memberText(ev, inviter), note);
}

function pinLine(ev, actor) {
  const data = ev.data || {};
  const who = actor.id === me.id ? "You" : actor.name;
  const text = data.seq === null || data.seq === undefined
    ? `${who} removed the pinned guidance.`
    : `${who} pinned a note as guidance.`;
  return systemLi({ ...ev, visibility: "internal" }, "pin", text);
}

function onEvent(ev) {
  if (ev.topic && ev.topic !== topic) return;
  const seq = Number(ev.seq);
  if (!Number.isFinite(seq)) return;
  const existing = rendered.get(seq);
  if (existing && existing.dataset.provisional !== "true") {
    // Seen already (a replay after a reconnect can overlap): nothing to do.
    noteSeq(seq);
    return;
  }
  const actor = actorOf(ev);
  const data = ev.data && typeof ev.data === "object" ? ev.data : {};
  let li = null;
  let own = false;

  if (ev.kind === "chat") {
    const visibility = data.visibility === "internal" || ev.visibility === "internal" ? "internal" : "public";
    if (actor.id === me.id) {
      own = true;
      adoptPending("chat", (f) => f.body === data.body && (f.visibility || "public") === visibility, seq);
    }
    li = chatLi({
      seq, actor, at: ev.at, body: typeof data.body === "string" ? data.body : "", visibility,
      replyTo: data.reply_to, attachments: data.attachments,
    });
    if (visibility === "internal") guidance.refreshMessage(li);
    stopTyping(actor.id);
  } else if (ev.kind === "status") {
    if (actor.id === me.id) {
      adoptPending("status", (f) => f.status === data.status, seq);
    }
    if (typeof data.status === "string") setStatus(data.status);
    // Replayed events are older than the state `joined` brought: only live ones move the promise.
    if (seq > state.replayTo) promise.fromStatusEvent(data);
    li = statusLine(ev, actor);
  } else if (ev.kind === "task") {
    tasks.onEvent(ev);
  } else if (ev.kind === "assignment") {
    huddle.onAssignment(ev);
    li = systemLi(ev, "assignment", huddle.assignmentText(ev, actor.id === me.id ? "You" : actor.name));
  } else if (ev.kind === "member") {
    huddle.onMember(ev);
    li = memberLine(ev, actor);
  } else if (ev.kind === "pin") {
    guidance.onPin(ev);
    li = pinLine(ev, actor);
  } else if (ev.kind === "priority" && typeof data.priority === "string") {
    const label = data.priority.charAt(0).toUpperCase() + data.priority.slice(1);
    for (const badge of document.querySelectorAll(".badge.priority[data-priority]")) {
      badge.className = `badge priority priority-${data.priority}`;
      badge.dataset.priority = data.priority;
      badge.replaceChildren(h("span", { className: "visually-hidden" }, "Priority: "), label);
    }
    li = systemLi(ev, "priority", `${actor.id === me.id ? "You" : actor.name} set the priority to ${label}.`);
  } else if (ev.kind === "moved") {
    const who = actor.id === me.id ? "You" : actor.name;
    li = systemLi(ev, "moved", `${who} moved this ticket from ${data.from?.name ?? "?"} to ${data.to?.name ?? "?"}.`);
  }
  // A server that moves the promise with other events may say so in their data too.
  if (ev.kind !== "status" && data.next_update_at !== undefined && seq > state.replayTo) {
    promise.set(data.next_update_at, data.next_update_source);
  }

  if (li) {
    const wasNearEnd = nearEnd();
    if (existing) {
      existing.replaceWith(li);
    } else {
      placeEvent(li, seq);
    }
    rendered.set(seq, li);
    updatePlaceholder();
    if (own || wasNearEnd) scrollToEnd(true);
  }
  noteSeq(seq);
}

function noteSeq(seq) {
  if (seq > state.lastSeq) state.lastSeq = seq;
  if (!state.ready && state.replayTo && seq >= state.replayTo) replayDone();
  scheduleSeen();
}

// ---------------------------------------------------------------------------
// Read up to here: `seen`, at most every 2 s, only while the page is in sight

function scheduleSeen() {
  if (state.seenTimer || document.visibilityState !== "visible") return;
  if (!state.ready || state.lastSeq <= state.seenSent) return;
  const wait = Math.max(0, (state.seenAt || 0) + SEEN_EVERY_MS - Date.now());
  state.seenTimer = setTimeout(sendSeen, wait);
}

function sendSeen() {
  state.seenTimer = 0;
  if (document.visibilityState !== "visible" || !state.ready || state.lastSeq <= state.seenSent) return;
  if (live.send({ type: "seen", topic, seq: state.lastSeq })) {
    state.seenSent = state.lastSeq;
    state.seenAt = Date.now();
  }
}

document.addEventListener("visibilitychange", scheduleSeen);

/** Our own event came back: the message waiting for it is done. */
function adoptPending(kind, matches, seq) {
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

// ---------------------------------------------------------------------------
// Sending, the outbox, and replies

function sendOrQueue(ref) {
  const entry = pending.get(ref);
  if (!entry) return;
  if (state.ready && live.send(entry.frame)) {
    entry.generation = live.generation;
  }
  renderBanner();
}

function flushOutbox() {
  for (const [ref, entry] of pending) {
    if (entry.generation === live.generation) continue;
    sendOrQueue(ref);
  }
}

function setPendingLabel(li, text) {
  const label = li.querySelector(".msg-state");
  if (label && label.textContent !== text) label.textContent = text;
}

function composerVisibility() {
  return isStaff && els.internal && els.internal.checked ? "internal" : "public";
}

function sendChat(body, { force = false, replyTo = null } = {}) {
  const vis = composerVisibility();
  const ref = newRef("chat");
  const frame = { type: "chat", topic, body, visibility: vis, base_seq: state.lastSeq, ref };
  if (force) frame.force = true;
  if (replyTo) frame.reply_to = replyTo;
  const li = chatLi({ seq: null, actor: { ...me }, at: null, body, visibility: vis, pendingLabel: "Sending…", replyTo });
  li.dataset.ref = ref;
  pending.set(ref, { kind: "chat", frame, li, generation: null });
  els.messages.append(li);
  updatePlaceholder();
  scrollToEnd(true);
  sendOrQueue(ref);
}

function onReply(frame) {
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

function joinRefused(error) {
  if (error.code === "unauthorized") {
    live.end("session");
  } else if (error.code === "forbidden" || error.code === "not_found") {
    live.end("forbidden");
  } else {
    showComposerError(error);
  }
}

function onServerError(frame) {
  const error = frame.error || {};
  if (error.code === "unauthorized") {
    live.end("session");
    return;
  }
  console.warn("livesupport:", error.code, error.message);
  if (error.code === "rate_limited" || error.code === "policy") showComposerError(error);
}

// ---------------------------------------------------------------------------
// The composer

// The draft is kept per ticket in this browser, with whether it was an internal note,
// so a reload, a crash or a lost session loses nothing and never turns a note into a reply.
function loadDraft() {
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem(draftKey) || "null");
  } catch { /* storage off, or an old value */ }
  if (!saved || typeof saved.text !== "string" || !saved.text || els.message.value) return;
  els.message.value = saved.text;
  if (els.internal && saved.internal) els.internal.checked = true;
}

function saveDraft() {
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

function restoreToComposer(frame) {
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

function showComposerError(error) {
  const conflict = error.code === "conflict";
  els.composerErrorText.textContent = conflict
    ? "New messages arrived while you were writing. Read them, then send your message again – or send it anyway."
    : error.message || "The message could not be sent. Please try again.";
  els.sendAnyway.hidden = !conflict;
  els.composerError.hidden = false;
  els.composerError.dataset.code = error.code || "error";
  if (conflict) scrollToEnd(true);
}

function hideComposerError() {
  els.composerError.hidden = true;
  els.sendAnyway.hidden = true;
  els.composerErrorText.textContent = "";
}

function applyComposerMode() {
  if (!els.internal) return;
  const internal = els.internal.checked;
  els.composer.dataset.mode = internal ? "internal" : "public";
  els.internalBanner.hidden = !internal;
  els.messageLabel.textContent = internal ? "Note for the team" : "Reply to the client";
  els.message.placeholder = internal ? "Write a note for the team – the client will not see it…" : "Write to the client…";
  if (els.send.getAttribute("aria-disabled") !== "true") els.send.textContent = sendLabel();
}

function sendLabel() {
  return els.internal && els.internal.checked ? "Add note" : "Send";
}

/** Text and files go together over HTTP; the text stays in the composer until they are stored. */
async function submitWithFiles(body) {
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

function submitComposer({ force = false } = {}) {
  const body = els.message.value;
  if (attachments.hasFiles) {
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
  sendChat(body, { force, replyTo });
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

// ---------------------------------------------------------------------------
// Typing indicator

function renderTyping() {
  const now = Date.now();
  for (const [id, t] of state.typers) if (t.until <= now) state.typers.delete(id);
  const names = [...state.typers.values()].map((t) => t.name);
  let text = "";
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = "Several people are typing…";
  if (els.typing.textContent !== text) els.typing.textContent = text;
  els.typing.dataset.active = text ? "true" : "false";
  if (state.typers.size) {
    const next = Math.min(...[...state.typers.values()].map((t) => t.until));
    clearTimeout(renderTyping.timer);
    renderTyping.timer = setTimeout(renderTyping, Math.max(50, next - now + 20));
  }
}

function onTyping(frame) {
  if (frame.topic && frame.topic !== topic) return;
  const user = frame.user || {};
  const id = String(user.id ?? "");
  if (!id || id === me.id) return;
  state.typers.set(id, { name: user.name || "Someone", until: Date.now() + TYPING_SHOWN_MS });
  renderTyping();
}

function stopTyping(userId) {
  if (state.typers.delete(String(userId))) renderTyping();
}

// ---------------------------------------------------------------------------
// Presence

function onPresence(frame) {
  if (frame.topic && frame.topic !== topic) return;
  const members = Array.isArray(frame.members) ? frame.members : [];
  const viewers = Number.isFinite(Number(frame.viewers)) ? Number(frame.viewers) : new Set(members.map((m) => m.id)).size;
  els.viewerCount.textContent = `${viewers} viewing`;
  els.viewerCount.hidden = false;

  // One line per person, me first, then staff, then the rest, as the server listed them.
  const seen = new Set();
  const people = [];
  for (const m of members) {
    const id = String(m.id);
    if (seen.has(id)) continue;
    seen.add(id);
    people.push({ ...m, id });
  }
  const rank = (m) => (m.id === me.id ? 0 : isStaffRole(m.role) ? 1 : 2);
  people.sort((a, b) => rank(a) - rank(b));

  const items = people.map((m) => {
    const working = m.state === "working";
    const li = h("li", {
      className: `presence-item${m.id === me.id ? " is-me" : ""}${working ? " is-working" : ""}`,
      dataset: { userId: m.id, state: m.state || "viewing" },
    },
    h("span", { className: "avatar", "aria-hidden": "true" }, initials(m.name)),
    h("span", { className: "presence-text" },
      h("span", { className: "presence-name" }, m.name || "Someone", m.id === me.id ? h("span", { className: "muted" }, " (you)") : null),
      h("span", { className: "presence-meta" },
        roleBadge(m.role, m.tier),
        working ? h("span", { className: "presence-state state-working" }, "working on it") : null,
        m.state === "typing" ? h("span", { className: "presence-state state-typing" }, "typing…") : null,
      ),
    ),
    );
    return li;
  });
  els.presence.replaceChildren(...items);

  // Clients are told in words who is working on their ticket.
  const workers = people.filter((m) => m.state === "working" && isStaffRole(m.role) && m.id !== me.id);
  if (workers.length) {
    const names = workers.map((m) => (m.tier ? `${m.name} (Level ${m.tier})` : m.name));
    const verb = workers.length === 1 ? "is" : "are";
    els.workingNote.textContent = isStaff
      ? `${joinNames(names)} ${verb} working on this ticket`
      : `${joinNames(names)} ${verb} working on your ticket`;
    els.workingNote.hidden = false;
  } else {
    els.workingNote.textContent = "";
    els.workingNote.hidden = true;
  }

  const mine = people.find((m) => m.id === me.id);
  if (mine && isStaff && els.workingToggle && !els.workingToggle.dataset.busy) {
    renderWorking(mine.state === "working");
  }
}

// ---------------------------------------------------------------------------
// Staff: working toggle and status form

function renderWorking(on) {
  if (!els.workingToggle) return;
  els.workingToggle.setAttribute("aria-pressed", on ? "true" : "false");
  els.workingToggle.textContent = on ? "Stop working" : "I'm working on this";
  els.workingToggle.classList.toggle("is-on", on);
}

if (els.workingToggle) {
  els.workingToggle.addEventListener("click", () => {
    state.working = els.workingToggle.getAttribute("aria-pressed") !== "true";
    renderWorking(state.working);
    // Presence frames in between would show the old state; hold them off briefly.
    els.workingToggle.dataset.busy = "true";
    setTimeout(() => delete els.workingToggle.dataset.busy, 1500);
    if (state.ready) live.send({ type: "activity", topic, state: state.working ? "working" : "viewing" });
  });
}

function statusSaved() {
  state.statusDirty = false;
  if (!els.statusSave) return;
  els.statusSave.removeAttribute("aria-disabled");
  els.statusSave.textContent = "Update status";
  els.statusError.hidden = true;
  els.statusNote.textContent = "Saved – the client sees it now.";
  clearTimeout(statusSaved.timer);
  statusSaved.timer = setTimeout(() => { els.statusNote.textContent = ""; }, 5000);
}

function statusFailed(error) {
  els.statusSave.removeAttribute("aria-disabled");
  els.statusSave.textContent = "Update status";
  els.statusError.textContent = error.message || "The status could not be changed.";
  els.statusError.hidden = false;
}

if (els.statusForm) {
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

// ---------------------------------------------------------------------------
// Frames from the server

live.addEventListener("frame", (ev) => {
  const frame = ev.detail;
  switch (frame.type) {
    case "joined": onJoined(frame); break;
    case "event": onEvent(frame); break;
    case "presence": onPresence(frame); break;
    case "typing": onTyping(frame); break;
    case "reply": onReply(frame); break;
    case "error": onServerError(frame); break;
    case "left": if (frame.topic === topic) live.end("forbidden"); break; // access ended: nothing more comes
    case "pong": break;
    default: break; // frames this page does not know are ignored
  }
});

live.addEventListener("close", () => {
  // The others' typing is stale once we cannot hear them.
  state.typers.clear();
  renderTyping();
});

// ---------------------------------------------------------------------------

loadDraft();
applyComposerMode();
setStatus(state.status);
promise.set(page.dataset.nextUpdate || null);
renderBanner();
// The socket is the page's, shared with the notices: it may be open already.
if (live.isOpen) join();
startLive();
