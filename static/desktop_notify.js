// Desktop notifications for staff, on every page: while livesupport is in another tab (or another window
// has the focus), a client's message on a ticket assigned to me, an invitation into a huddle, an assignment
// and a ticket of mine turning overdue show as system notifications. They ride on the personal notices
// that notices.js joins (user:<id>); permission is asked for only when a "Turn on" button is clicked.
import { live } from "./socket.js";

const meId = document.body.dataset.meId;
const supported = "Notification" in window;
const buttons = [...document.querySelectorAll("[data-desktop-notify]")];
const states = [...document.querySelectorAll("[data-desktop-notify-state]")];
const prompts = [...document.querySelectorAll("[data-desktop-prompt]")];

const WORDS = {
  unsupported: "This browser cannot show desktop notifications.",
  default: "Off. Your browser asks you once when you turn them on.",
  granted: "On in this browser.",
  denied: "Blocked for this site in your browser's settings: allow notifications for this site there to turn them on.",
};

function permission() {
  return supported ? Notification.permission : "unsupported";
}

function renderControls() {
  const now = permission();
  for (const el of states) {
    el.textContent = WORDS[now] || WORDS.default;
    el.dataset.state = now;
  }
  for (const b of buttons) b.hidden = now !== "default";
  for (const p of prompts) p.hidden = now !== "default";
}

async function turnOn() {
  if (!supported) return;
  try {
    await Notification.requestPermission();
  } catch {
    // Very old browsers take a callback instead; the state below says what happened either way.
  }
  renderControls();
}

function name(person) {
  return (person && typeof person.name === "string" && person.name) || "Someone";
}

function words(notice) {
  const t = notice.ticket || {};
  const label = `#${t.id ?? ""}`;
  const subject = typeof t.subject === "string" ? t.subject : "";
  switch (notice.kind) {
    case "message":
      return { title: `${name(notice.by)} wrote on ${label}`, body: notice.excerpt ? `${subject}\n“${notice.excerpt}”` : subject };
    case "invited":
      return { title: `${name(notice.by)} invited you to ${label}`, body: notice.message ? `${subject}\n“${notice.message}”` : subject };
    case "assigned":
      return { title: `${name(notice.by)} assigned you to ${label}`, body: subject };
    case "overdue":
      return { title: `${label} is overdue`, body: `${subject}\nThe next update was due and has not been sent.` };
    default:
      return null; // a kind this page does not know: say nothing rather than something wrong
  }
}

function safeUrl(notice) {
  const url = typeof notice.url === "string" ? notice.url : "";
  if (url.startsWith("/") && !url.startsWith("//")) return url;
  return notice.ticket?.id ? `/tickets/${encodeURIComponent(notice.ticket.id)}` : "/tickets";
}

/** Only when the person is elsewhere: the page is hidden, or another window has the focus. */
function away() {
  return document.visibilityState !== "visible" || !document.hasFocus();
}

function show(notice) {
  if (permission() !== "granted" || !away()) return;
  const text = words(notice);
  if (!text) return;
  const url = safeUrl(notice);
  // One tag per happening: several open tabs show it once.
  const tag = ["livesupport", notice.kind, notice.ticket?.id, notice.seq ?? notice.next_update_at ?? ""].join(":");
  try {
    const n = new Notification(text.title, { body: text.body, tag, icon: "/static/favicon.svg" });
    n.onclick = () => {
      window.focus();
      n.close();
      if (window.location.pathname !== url) window.location.assign(url);
    };
  } catch (exc) {
    console.info("livesupport: the browser refused a desktop notification:", exc?.message || exc);
  }
}

if (meId) {
  for (const b of buttons) b.addEventListener("click", turnOn);
  renderControls();
  live.addEventListener("frame", (ev) => {
    const frame = ev.detail;
    if (frame?.type === "notice" && frame.topic === `user:${meId}`) show(frame);
  });
}
