// The ticket's ending, on its page: "Mark solved", "Reopen", "Open a follow-up" (when reopening is over), the
// "How did we do?" question for the ticket's own contacts, and (staff) the rating. Redrawn from the ticket's state
// after each action and whenever a status, rating or link event arrives live.
import { h } from "./dom.js";
import { dateTime, parseInstant } from "./format.js";
import { csrfToken, live } from "./socket.js";

const card = document.getElementById("outcome");
const page = document.getElementById("ticket-page");
const ticketId = page?.dataset.ticketId;
const staff = page?.dataset.staff === "true";
const OPEN = new Set(["new", "triage", "in_progress", "waiting_on_client"]);
const SCORE = { good: "Good", bad: "Bad" };

function when(iso) {
  const at = parseInstant(iso);
  return at ? h("time", { datetime: iso }, dateTime(at)) : "";
}

async function api(path, body) {
  const res = await fetch(`/api/tickets/${encodeURIComponent(ticketId)}${path}`, {
    method: body === undefined ? "GET" : "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(data?.error?.message || "That did not work. Please try again."), data);
  return data;
}

function say(text, kind = "note") {
  const p = document.getElementById("outcome-message");
  p.textContent = text;
  p.className = kind === "error" ? "form-error" : "status-note";
  p.setAttribute("role", kind === "error" ? "alert" : "status");
  p.hidden = !text;
}

function busy(button, words) {
  button.setAttribute("aria-disabled", "true");
  button.textContent = words;
}

async function act(button, words, call, done) {
  if (button.getAttribute("aria-disabled") === "true") return;
  const before = button.textContent;
  busy(button, words);
  try {
    await call();
    await refresh();
    say(done);
  } catch (err) {
    button.removeAttribute("aria-disabled");
    button.textContent = before;
    say(err.message, "error");
    if (err?.error?.follow_up) await refresh(); // too late to reopen: the follow-up is offered instead
  }
}

function links(t) {
  const items = [];
  if (t.follows_up) items.push(h("li", {}, "Follows up ", h("a", { href: `/tickets/${t.follows_up.id}` }, `#${t.follows_up.id} ${t.follows_up.subject}`)));
  for (const f of t.follow_ups || []) items.push(h("li", {}, "Followed up by ", h("a", { href: `/tickets/${f.id}` }, `#${f.id} ${f.subject}`)));
  return items.length ? h("ul", { className: "outcome-links", id: "outcome-links" }, items) : null;
}

function clientActions(t) {
  const row = h("div", { className: "outcome-actions" });
  if (OPEN.has(t.status)) {
    const b = h("button", { type: "button", className: "button", id: "mark-solved" }, "Mark solved");
    b.addEventListener("click", () => act(b, "Marking solved…", () => api("/status", { status: "resolved" }),
      "Marked solved. Thank you!"));
    row.append(b, h("span", { className: "hint" }, "Problem gone? Tell us, and we stop working on it."));
  } else if (t.may_reopen) {
    const b = h("button", { type: "button", className: "button", id: "reopen" }, "Reopen");
    b.addEventListener("click", () => act(b, "Reopening…", () => api("/reopen", {}),
      "Reopened: the team is on it again."));
    row.append(h("p", { className: "outcome-state", id: "outcome-state" }, "Solved. Not fixed after all? You can reopen it until ", when(t.reopen_until), "."), b);
  } else {
    const a = h("a", { className: "button", id: "follow-up", href: `/tickets/new?follows_up=${encodeURIComponent(ticketId)}` }, "Open a follow-up");
    const words = t.status === "closed" ? "This ticket is closed." : "This ticket was solved too long ago to reopen.";
    row.append(h("p", { className: "outcome-state", id: "outcome-state" }, `${words} If the problem is back, open a follow-up: it links to this one.`), a);
  }
  return row;
}

function ratingForm(t) {
  const mine = t.rating;
  const form = h("form", { className: "rating-form", id: "rating-form", novalidate: true });
  const chosen = { score: mine?.score || "" };
  const buttons = ["good", "bad"].map((score) => {
    const b = h("button", { type: "button", className: `button rating-${score}`, id: `rate-${score}`, "aria-pressed": String(chosen.score === score) }, SCORE[score]);
    b.addEventListener("click", () => {
      chosen.score = score;
      for (const other of form.querySelectorAll("[aria-pressed]")) other.setAttribute("aria-pressed", String(other === b));
    });
    return b;
  });
  const comment = h("textarea", { id: "rating-comment", name: "comment", rows: "2", maxlength: "2000" });
  comment.value = mine?.comment || "";
  const send = h("button", { type: "submit", className: "button button-primary", id: "rating-send" }, mine ? "Change my answer" : "Send");
  form.append(h("div", { className: "rating-buttons", role: "group", "aria-labelledby": "rating-title" }, buttons),
    h("label", { for: "rating-comment" }, "Anything to add? (optional)"), comment, send);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!chosen.score) { say("Choose Good or Bad first.", "error"); return; }
    act(send, "Sending…", () => api("/rating", { score: chosen.score, comment: comment.value }),
      "Thank you: we recorded your answer.");
  });
  return h("div", { className: "rating" },
    h("h3", { id: "rating-title" }, "How did we do?"),
    mine ? h("p", { id: "rating-current" }, `Your answer: ${SCORE[mine.score]}. You can change it until `, when(t.rating_until), ".") : null,
    form,
  );
}

function staffRating(t) {
  if (!t.rating) return h("p", { className: "muted", id: "rating-none" }, t.resolved_at ? "No rating from the client yet." : "");
  const r = t.rating;
  return h("p", { id: "rating-staff", className: `rating-shown rating-${r.score}` },
    h("strong", {}, `Rated ${SCORE[r.score]}`), ` by ${r.by.name}, `, when(r.at), r.comment ? `: “${r.comment}”` : "");
}

function render(t) {
  const parts = [];
  if (staff) {
    parts.push(staffRating(t));
  } else if (page.dataset.client === "true") {
    parts.push(clientActions(t));
    if (t.may_rate) parts.push(ratingForm(t));
  }
  parts.push(links(t));
  const title = staff ? "Satisfaction" : { resolved: "Solved", closed: "Closed" }[t.status] || "Solved?";
  card.replaceChildren(h("h2", { id: "outcome-title" }, title), ...parts.filter(Boolean),
    h("p", { id: "outcome-message", hidden: true }));
  card.hidden = staff && !t.resolved_at && !t.follows_up && !(t.follow_ups || []).length;
}

async function refresh() {
  try {
    render(await api(""));
  } catch { /* the next event tries again */ }
}

if (card) {
  try { render(JSON.parse(card.dataset.state)); } catch { refresh(); }
  live.addEventListener("frame", (ev) => {
    const f = ev.detail;
    if (f.type === "event" && f.topic === `ticket:${ticketId}` && ["status", "rating", "link"].includes(f.kind)) refresh();
  });
}
