// Words and times as people read them. Keep the labels in step with templates/_macros.html.

const STATUS_LABELS = {
  new: "New",
  triage: "Triage",
  in_progress: "In progress",
  waiting_on_client: "Waiting on client",
  resolved: "Resolved",
  closed: "Closed",
};

export const CLOSED_STATUSES = new Set(["resolved", "closed"]);

export function statusLabel(status, isStaff = true) {
  if (status === "waiting_on_client" && !isStaff) return "Waiting on you";
  if (Object.hasOwn(STATUS_LABELS, status)) return STATUS_LABELS[status];
  const words = String(status || "").replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const ROLE_LABELS = {
  client: "Client",
  domain_admin: "Domain admin",
  partner: "Partner",
  staff: "Support",
  admin: "Admin",
  billing: "Billing",
};

export function isStaffRole(role) {
  return role === "staff" || role === "admin";
}

/** "Level 2" for staff with a tier, otherwise the role in words. */
export function roleLabel(role, tier) {
  if (isStaffRole(role) && tier) return `Level ${tier}`;
  return ROLE_LABELS[role] || String(role || "");
}

export function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return "?";
  const first = parts[0][0] || "?";
  const last = parts.length > 1 ? parts[parts.length - 1][0] : "";
  return (first + last).toUpperCase();
}

/** A Date from an ISO string, or null when missing or unreadable. */
export function parseInstant(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

// One format for the whole product, as livesupport/domain/dates.py writes it on the server:
// "Dec 5, 2026, 12:01 AM EST" (and "12:01 PM" for a time today), in the viewer's own zone.
const LOCALE = "en-US";
const timeFmt = new Intl.DateTimeFormat(LOCALE, { hour: "numeric", minute: "2-digit" });
const fullFmt = new Intl.DateTimeFormat(LOCALE, {
  day: "numeric", month: "short", year: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short",
});
const longFmt = new Intl.DateTimeFormat(LOCALE, { dateStyle: "full", timeStyle: "long" });

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** "2:30 PM" today, "Dec 3, 2026, 2:30 PM EST" another day. */
export function shortTime(date, now = new Date()) {
  if (sameDay(date, now)) return timeFmt.format(date);
  return fullFmt.format(date);
}

/** "Dec 3, 2026, 2:30 PM EST": the product's one format for a day and time. */
export function dateTime(date) {
  return fullFmt.format(date);
}

export function fullTime(date) {
  return longFmt.format(date);
}

/** "25 min", "2 h 5 min", "3 days" for a span in milliseconds (absolute). */
export function span(ms) {
  const minutes = Math.max(0, Math.round(Math.abs(ms) / 60000));
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 24) return rest ? `${hours} h ${rest} min` : `${hours} h`;
  const days = Math.round(hours / 24);
  return days === 1 ? "1 day" : `${days} days`;
}

/** "just now", "5 min ago", "yesterday at 2:30 PM", or a date. */
export function relativeTime(date, now = new Date()) {
  const ms = now - date;
  if (ms < 45e3 && ms > -45e3) return "just now";
  if (ms > 0 && ms < 3600e3) return `${Math.round(ms / 60000)} min ago`;
  if (sameDay(date, now)) return `today at ${timeFmt.format(date)}`;
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (sameDay(date, yesterday)) return `yesterday at ${timeFmt.format(date)}`;
  return shortTime(date, now);
}

/**
 * The promise of the next update, in words and a state for styling:
 * "Next update by 2:30 PM (in 25 min)", "Next update overdue", "No update scheduled".
 */
export function nextUpdateText(value, now = new Date()) {
  const at = parseInstant(value);
  if (!at) return { text: "No update scheduled", state: "none", at: null };
  const ms = at - now;
  if (ms <= 0) return { text: "Next update overdue", state: "overdue", at };
  const state = ms <= 15 * 60e3 ? "soon" : "scheduled";
  return { text: `Next update by ${shortTime(at, now)} (in ${span(ms)})`, state, at };
}

/** The value a datetime-local input wants for an instant, in the viewer's zone. */
export function toLocalInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Put every <time data-local> in the viewer's time zone. */
export function localiseTimes(root = document) {
  const now = new Date();
  for (const el of root.querySelectorAll("time[data-local]")) {
    const at = parseInstant(el.getAttribute("datetime"));
    if (!at) continue;
    const style = el.dataset.local;
    if (style === "relative") el.textContent = relativeTime(at, now);
    else if (style === "short") el.textContent = shortTime(at, now);
    else el.textContent = dateTime(at);
    el.title = fullTime(at);
  }
}
