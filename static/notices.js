// Personal notices on every page: "Sam Rivera invited you to #12 VPN drops", as a popup
// that stays until it is dismissed. One subscription per page (the socket is shared), so one popup per notice.
import { h, personName } from "./dom.js";
import { follow, startLive } from "./socket.js";

const MAX_SHOWN = 4;
const region = document.getElementById("notices");
const meId = document.body.dataset.meId;

const VERBS = {
  invited: "invited you to",
  assigned: "assigned you to",
};

function ticketLabel(ticket) {
  const id = ticket?.id ?? "";
  const subject = ticket?.subject ? ` ${ticket.subject}` : "";
  return `#${id}${subject}`;
}

function safeUrl(notice) {
  const url = typeof notice.url === "string" ? notice.url : "";
  // Only paths of this site: a notice never sends anyone elsewhere.
  if (url.startsWith("/") && !url.startsWith("//")) return url;
  return notice.ticket?.id ? `/tickets/${encodeURIComponent(notice.ticket.id)}` : "/tickets";
}

function dismiss(el) {
  el.dataset.leaving = "true";
  el.remove();
}

function show(notice) {
  const verb = VERBS[notice.kind];
  const by = personName(notice.by);
  const url = safeUrl(notice);
  const dismissButton = h("button", {
    type: "button",
    className: "button button-quiet notice-dismiss",
    "aria-label": "Dismiss this notice",
  }, "×");
  const el = h("div", {
    className: "notice",
    role: "alert",
    dataset: { kind: String(notice.kind || ""), ticketId: String(notice.ticket?.id ?? "") },
  },
  h("span", { className: "notice-icon", "aria-hidden": "true" }),
  h("div", { className: "notice-main" },
    h("p", { className: "notice-text" },
      h("strong", {}, by), ` ${verb} `,
      h("a", { href: url, className: "notice-link" }, ticketLabel(notice.ticket))),
    typeof notice.message === "string" && notice.message
      ? h("p", { className: "notice-message" }, `“${notice.message}”`)
      : null,
    h("a", { href: url, className: "button button-small button-primary notice-open" }, "Open the ticket")),
  dismissButton);
  dismissButton.addEventListener("click", () => dismiss(el));
  el.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") dismiss(el);
  });
  region.prepend(el);
  while (region.children.length > MAX_SHOWN) region.lastElementChild.remove();
}

if (region && meId) {
  follow(`user:${meId}`, {
    onFrame: (frame) => {
      // Other kinds (a client's message, a ticket turning overdue) become desktop notifications
      // (desktop_notify.js); in the page, the lists' counters already show them.
      if (frame.type === "notice" && VERBS[frame.kind]) show(frame);
    },
    onRefused: (error) => console.info("livesupport: no personal notices on this page:", error.code),
  });
  startLive();
}
