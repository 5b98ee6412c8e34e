// The live ticket page: joins the ticket over the page's one WebSocket and routes what arrives to its parts
// (ticket_conversation, ticket_composer, ticket_outbox, ticket_presence, ticket_status, ticket_banner, ticket_menus).
import { h } from "./dom.js";
import { live, newRef, reportTimeZone, startLive } from "./socket.js";
import { renderBanner } from "./ticket_banner.js";
import { applyComposerMode, loadDraft } from "./ticket_composer.js";
import { memberLine, pinLine, placeEvent, scrollToEnd, statusLine, systemLi, chatLi, actorOf, nearEnd,
  updatePlaceholder } from "./ticket_conversation.js";
import { $, els, me, page, REPLAY_GRACE_MS, rendered, SEEN_EVERY_MS, state, topic } from "./ticket_core.js";
import { adoptPending, flushOutbox, onReply, onServerError } from "./ticket_outbox.js";
import { guidance, huddle, promise, tasks } from "./ticket_parts.js";
import { onPresence, onTyping, renderTyping, stopTyping } from "./ticket_presence.js";
import { setStatus } from "./ticket_status.js";
import "./ticket_menus.js";

function join() {
  state.ready = false;
  state.joinRef = newRef("join");
  live.send({ type: "join", topic, since: state.lastSeq, ref: state.joinRef });
  reportTimeZone(); // so staff see a contact's local time beside their tickets
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
      replyTo: data.reply_to, attachments: data.attachments, source: data.source,
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
