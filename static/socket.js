// The page's one WebSocket, shared by every module on the page (an ES module is evaluated once),
// with two helpers on top: follow a topic across reconnects, and ask the server something.
import { Live } from "./live.js";

export const live = new Live();

let started = false;

/** Connect, once, whichever module asks first. */
export function startLive() {
  if (started) return;
  started = true;
  live.start();
}

let refCounter = 0;

/** A reference no other frame of this page carries. */
export function newRef(prefix) {
  refCounter += 1;
  return `${prefix}-${Date.now().toString(36)}-${refCounter}-${Math.random().toString(36).slice(2, 7)}`;
}

const OFFLINE = {
  code: "offline",
  message: "Not connected just now. Wait until the page is live again, then try once more.",
};
const DROPPED = {
  code: "unavailable",
  message: "The connection dropped before the server answered. Please try again.",
};

/** ref -> {resolve, timer}: questions waiting for their reply. */
const waiting = new Map();

function settle(ref, answer) {
  const entry = waiting.get(ref);
  if (!entry) return;
  waiting.delete(ref);
  clearTimeout(entry.timer);
  entry.resolve(answer);
}

live.addEventListener("frame", (ev) => {
  const frame = ev.detail;
  if (frame.type === "reply" && frame.ref && waiting.has(frame.ref)) settle(frame.ref, frame);
});

live.addEventListener("close", () => {
  for (const ref of [...waiting.keys()]) settle(ref, { ok: false, error: DROPPED });
});

/**
 * Send a frame the server answers with a `reply`. Resolves with that reply, or with
 * {ok: false, error} when there is no connection or no answer; never rejects.
 */
export function request(frame, timeoutMs = 15_000) {
  const ref = newRef(frame.type || "frame");
  return new Promise((resolve) => {
    if (!live.send({ ...frame, ref })) {
      resolve({ ok: false, error: OFFLINE });
      return;
    }
    const timer = setTimeout(() => settle(ref, { ok: false, error: DROPPED }), timeoutMs);
    waiting.set(ref, { resolve, timer });
  });
}

/**
 * Join `topic` now and after every reconnection. `onJoined(frame)` gets the `joined` answer,
 * `onFrame(frame)` every later frame of that topic, `onRefused(error)` a refused join.
 * `options` are more fields of the join frame (e.g. `{state: false}`).
 */
export function follow(topic, { onJoined, onFrame, onRefused, options = {} } = {}) {
  let joinRef = null;
  const join = () => {
    joinRef = newRef("join");
    live.send({ ...options, type: "join", topic, ref: joinRef });
  };
  live.addEventListener("open", join);
  live.addEventListener("frame", (ev) => {
    const frame = ev.detail;
    if (frame.ref && frame.ref === joinRef) {
      if (frame.type === "joined") {
        live.markHealthy();
        onJoined?.(frame);
      } else if (frame.type === "reply" && frame.ok === false) {
        onRefused?.(frame.error || {});
      }
      return;
    }
    if (frame.topic === topic && frame.type !== "joined") onFrame?.(frame);
  });
  if (live.isOpen) join();
}

let zoneSent = false;
let zoneWaiting = false;

/** Tell the server, once a page, which time zone this browser is in: the person's own clock (the days of the
 * ticket list's filters; the local time staff see beside a contact's tickets). Not when it is `known` already.
 * Sent now if the socket is open, else when it opens: another module may have started it before this one ran. */
export function reportTimeZone(known = "") {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zoneSent || typeof zone !== "string" || !zone || zone === known) return;
  const send = () => {
    if (!zoneSent) zoneSent = live.send({ type: "time_zone", time_zone: zone });
  };
  if (!zoneWaiting) {
    zoneWaiting = true;
    live.addEventListener("open", send);
  }
  if (live.isOpen) send();
}

/** The page's CSRF token, for requests made with the session cookie. */
export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}
