// Building page elements from data. User content only ever goes in as text, never as HTML.
import { fullTime, initials, isStaffRole, parseInstant, roleLabel, shortTime } from "./format.js";

/** h("li", {className, dataset, text, ...attributes}, ...children) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "className") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function timeEl(iso, className = "msg-time") {
  const at = parseInstant(iso);
  if (!at) return null;
  // A message's time: the time alone today, the whole day and time before (the same format, shortened).
  return h("time", { datetime: iso, title: fullTime(at), className, dataset: { local: "short" } }, shortTime(at));
}

export function roleBadge(role, tier) {
  const label = roleLabel(role, tier);
  if (!label) return null;
  return h("span", { className: `role-badge role-${isStaffRole(role) ? "staff" : "client"}` }, label);
}

/** A round badge with initials; the name is for screen readers and a tooltip. */
export function personChip(person, { state } = {}) {
  const name = person?.name || "Someone";
  const working = state === "working";
  const label = working ? `${name}, working on it` : state === "viewing" ? `${name}, viewing` : name;
  return h("span", {
    className: `chip-avatar${working ? " is-working" : ""}`,
    title: label,
    dataset: { userId: person?.id ?? "" },
  },
  h("span", { "aria-hidden": "true" }, initials(name)),
  h("span", { className: "visually-hidden" }, label));
}

/** "Dana Novak (Level 2)" */
export function personName(person) {
  if (!person) return "Someone";
  const name = person.name || "Someone";
  return isStaffRole(person.role) && person.tier ? `${name} (Level ${person.tier})` : name;
}

/** "Alice", "Alice and Bob", "Alice, Bob and Carol" */
export function joinNames(list) {
  if (list.length <= 1) return list.join("");
  return `${list.slice(0, -1).join(", ")} and ${list[list.length - 1]}`;
}

/** "12 KB", "3.4 MB" */
export function fileSize(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${Math.max(1, Math.round(n / 1024))} KB`;
  return `${(n / (1024 * 1024)).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}
