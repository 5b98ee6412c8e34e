// The conversation: messages and system lines as list items, in seq order, and the scroll position.
// User content is only ever put in the page as text (textContent), never as HTML.
import { attachmentList } from "./attachments.js";
import { h, roleBadge, timeEl } from "./dom.js";
import { CLOSED_STATUSES, initials, isStaffRole, parseInstant, shortTime, statusLabel } from "./format.js";
import { quoteEl } from "./threads.js";
import { canPin, els, isStaff, me, rendered, state } from "./ticket_core.js";
import { huddle } from "./ticket_parts.js";

export function updatePlaceholder() {
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

export function nearEnd() {
  const m = els.messages;
  return m.scrollHeight - m.scrollTop - m.clientHeight < 120;
}

export function scrollToEnd(force = false) {
  const m = els.messages;
  if (m.scrollHeight > m.clientHeight + 2) {
    if (force || nearEnd()) m.scrollTop = m.scrollHeight;
  }
}

/** Put an event's <li> in seq order, before any message still being sent. */
export function placeEvent(li, seq) {
  let before = null;
  for (const [other, otherLi] of rendered) {
    if (other > seq && otherLi.isConnected && (!before || other < Number(before.dataset.seq))) before = otherLi;
  }
  if (!before) before = els.messages.querySelector("li.msg.is-pending");
  els.messages.insertBefore(li, before);
}

export function actorOf(ev) {
  const a = ev.actor && typeof ev.actor === "object" ? ev.actor : {};
  return { id: a.id === undefined || a.id === null ? "" : String(a.id), name: a.name || "Support desk", role: a.role || "", tier: a.tier };
}

export function chatLi({ seq, actor, at, body, visibility, pendingLabel, replyTo, attachments: files, source }) {
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
    source === "email" ? h("span", { className: "msg-source", title: "This message came in as an e-mail reply" }, "by e-mail") : null,
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

export function statusLine(ev, actor) {
  const data = ev.data || {};
  let text = `${actor.name} set the status to ${statusLabel(data.status, isStaff)}`;
  const at = parseInstant(data.next_update_at);
  if (at) text += `; next update by ${shortTime(at)}`;
  else if ("next_update_at" in data && !CLOSED_STATUSES.has(data.status)) text += "; no update scheduled";
  text += ".";
  return systemLi(ev, "status", text);
}

/** A small line in the conversation: a status change, someone assigned or brought in, a pin. */
export function systemLi(ev, kind, text, extra = null) {
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

export function memberLine(ev, actor) {
  const data = ev.data || {};
  const inviter = actor.id && actor.id !== String(data.user?.id) ? (actor.id === me.id ? "you" : actor.name) : "";
  const note = isStaff && typeof data.message === "string" && data.message
    ? h("span", { className: "system-quote" }, `“${data.message}”`)
    : null;
  return systemLi(ev, "member", huddle.memberText(ev, inviter), note);
}

export function pinLine(ev, actor) {
  const data = ev.data || {};
  const who = actor.id === me.id ? "You" : actor.name;
  const text = data.seq === null || data.seq === undefined
    ? `${who} removed the pinned guidance.`
    : `${who} pinned a note as guidance.`;
  return systemLi({ ...ev, visibility: "internal" }, "pin", text);
}

export function setPendingLabel(li, text) {
  const label = li.querySelector(".msg-state");
  if (label && label.textContent !== text) label.textContent = text;
}
