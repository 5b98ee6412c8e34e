// The suspension banner, on every page of a client or domain administrator: when the organisation's
// services are suspended (a `billing` frame on org:<id>), a banner says so at once; paying everything
// owed restores them, and the banner goes away just as live. The server renders it too while suspended.
import { h } from "./dom.js";
import { follow, startLive } from "./socket.js";

const orgId = document.body.dataset.orgId;
const region = document.getElementById("billing-banner-region");

function banner() {
  return document.getElementById("billing-banner");
}

function clearRestored() {
  document.getElementById("billing-restored")?.remove();
}

function showSuspended(message) {
  clearRestored();
  const url = region.dataset.billingUrl || "/billing";
  const text = h("span", { className: "billing-banner-message" }, message);
  const el = banner();
  if (el) {
    // Already shown (rendered by the server, or an earlier frame): only the words may change.
    el.querySelector(".billing-banner-message")?.replaceWith(text);
    return;
  }
  // Inserted whole, so that screen readers announce the alert.
  region.append(h("div", {
    className: "billing-banner",
    id: "billing-banner",
    role: "alert",
    dataset: { standing: "suspended" },
  }, h("div", { className: "billing-banner-inner" },
    h("p", { className: "billing-banner-text" },
      h("strong", { className: "billing-banner-title" }, "Services suspended"), " ", text),
    h("a", { className: "button button-small billing-banner-link", href: url },
      url === "/billing" ? "How billing works" : "See what is owed"))));
}

function showRestored(message) {
  banner()?.remove();
  clearRestored();
  const dismiss = h("button", {
    type: "button",
    className: "button button-quiet button-small billing-restored-dismiss",
    "aria-label": "Dismiss",
  }, "×");
  const note = h("div", { className: "billing-restored", id: "billing-restored", role: "status" },
    h("p", {}, message || "Your services are running again."), dismiss);
  dismiss.addEventListener("click", () => note.remove());
  region.append(note);
}

// The billing page's own standing badge follows too, so the page never says two things at once.
const STANDING_WORDS = { good: "In good standing", late: "Payment overdue", suspended: "Services suspended" };

function showStanding(standing) {
  const badge = document.getElementById("standing");
  const words = STANDING_WORDS[standing];
  if (!badge || !words) return;
  badge.textContent = words;
  badge.className = `badge billing-standing billing-standing-${standing}`;
  const summary = document.getElementById("billing-summary");
  if (summary) summary.dataset.standing = standing;
}

if (orgId && region) {
  follow(`org:${orgId}`, {
    options: { state: false }, // only the billing notices: not the organisation's list
    onJoined: () => { region.dataset.following = "true"; },
    onFrame: (frame) => {
      if (frame.type !== "billing") return;
      const message = typeof frame.message === "string" ? frame.message : "";
      if (frame.standing === "suspended") showSuspended(message);
      else if (frame.standing === "good") showRestored(message);
      showStanding(frame.standing);
    },
    onRefused: (error) => console.info("livesupport: no billing notices on this page:", error.code),
  });
  startLive();
}
