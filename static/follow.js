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

// Staff: add a contact of the ticket's organisation, who then gets e-mail about it while away.
const contactForm = document.getElementById("contact-follow-form");
const contactSelect = document.getElementById("contact-follow-user");

async function addContact(ev) {
  ev.preventDefault();
  const note = document.getElementById("contact-follow-note");
  const problem = document.getElementById("contact-follow-error");
  const send = document.getElementById("contact-follow-send");
  const option = contactSelect.selectedOptions[0];
  note.textContent = "";
  problem.hidden = true;
  if (!option || option.disabled) {
    problem.textContent = "Choose a contact who is not informed yet.";
    problem.hidden = false;
    return;
  }
  send.setAttribute("aria-disabled", "true");
  try {
    const res = await fetch(`/api/tickets/${encodeURIComponent(ticketId)}/follow`, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify({ user_id: Number(option.value) }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      problem.textContent = body?.error?.message || "That did not work. Please try again.";
      problem.hidden = false;
      return;
    }
    const name = option.textContent.trim();
    option.disabled = true;
    option.textContent = `${name} (informed)`;
    const free = [...contactSelect.options].find((o) => !o.disabled);
    if (free) contactSelect.value = free.value;
    note.textContent = `${name} will get e-mail about this ticket.`;
  } catch {
    problem.textContent = "Not connected just now. Please try again in a moment.";
    problem.hidden = false;
  } finally {
    send.removeAttribute("aria-disabled");
  }
}

if (contactForm && contactSelect && ticketId) {
  const free = [...contactSelect.options].find((o) => !o.disabled);
  if (free) contactSelect.value = free.value;
  contactForm.addEventListener("submit", addContact);
}
