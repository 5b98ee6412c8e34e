// The ticket page's Follow button: e-mail about this ticket's changes while I am away, or not.
// POST /api/tickets/<id>/follow follows, DELETE unfollows (also a ticket one follows by role).
import { csrfToken } from "./socket.js";

const line = document.getElementById("follow-line");
const button = document.getElementById("follow-toggle");
const hint = document.getElementById("follow-hint");
const error = document.getElementById("follow-error");
const ticketId = document.getElementById("ticket-page")?.dataset.ticketId;

const WHY = {
  opened: "you opened it",
  assignee: "you are assigned to it",
  member: "you are in its huddle",
  follow: "you follow it",
  added: "you were added to it",
};

function render(following, reason) {
  button.setAttribute("aria-pressed", following ? "true" : "false");
  button.textContent = following ? "Following" : "Follow";
  button.classList.toggle("button-primary", !following);
  line.dataset.reason = reason || "";
  const why = following && WHY[reason] ? ` (${WHY[reason]})` : "";
  hint.textContent = following
    ? `You get an e-mail about changes while you are away${why}.`
    : "Get an e-mail about changes while you are away.";
}

function showError(text) {
  error.textContent = text;
  error.hidden = !text;
}

async function toggle() {
  const following = button.getAttribute("aria-pressed") === "true";
  button.setAttribute("aria-disabled", "true");
  showError("");
  try {
    const res = await fetch(`/api/tickets/${encodeURIComponent(ticketId)}/follow`, {
      method: following ? "DELETE" : "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      showError(body?.error?.message || "That did not work. Please try again.");
      return;
    }
    render(Boolean(body.following), body.reason);
  } catch {
    showError("Not connected just now. Please try again in a moment.");
  } finally {
    button.removeAttribute("aria-disabled");
  }
}

if (line && button && ticketId) {
  render(button.getAttribute("aria-pressed") === "true", line.dataset.reason);
  button.addEventListener("click", () => {
    if (button.getAttribute("aria-disabled") !== "true") toggle();
  });
}
