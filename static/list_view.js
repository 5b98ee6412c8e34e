// The rows of the open list, kept true to its question while tickets change: a ticket that starts to match
// goes in at its place in the sort, one that stops matching leaves, a changed one is redrawn where it is.
// When a row cannot tell (search words), the first page is asked of the server again. "Next page" becomes
// "Load more" through GET /api/tickets with the same question and the page's cursor.
import { refreshTimes } from "./app.js";
import { compareKeys, matches, readQuery, sortKey } from "./list_query.js";
import { keysOf, rowEl } from "./list_rows.js";

const list = document.getElementById("ticket-list");
const empty = document.getElementById("empty-state");
const newLink = document.getElementById("new-ticket-link");
const more = document.getElementById("list-more");
const nextLink = document.getElementById("next-page");
const moreState = document.getElementById("list-more-state");
const meId = document.body.dataset.meId;
const question = list?.dataset.query || "";
const query = readQuery(question, { since: list?.dataset.updatedSince, until: list?.dataset.updatedUntil });
const paged = list?.dataset.paged === "true"; // a later page: rows that start to match belong to the first
const look = { isStaff: list?.dataset.staff === "true", showOrg: list?.dataset.showOrg === "true", meId };

function rowOf(id) {
  return list.querySelector(`li[data-ticket-id="${CSS.escape(String(id))}"]`);
}

function hasMore() {
  return Boolean(more && !more.hidden && nextLink?.getAttribute("href"));
}

function showEmpty() {
  const any = Boolean(list.querySelector("li[data-ticket-id]"));
  list.hidden = !any;
  if (empty) empty.hidden = any;
  if (any && newLink) newLink.hidden = false;
}

function flash(li) {
  li.classList.add("is-flash");
  setTimeout(() => li.classList.remove("is-flash"), 2500);
}

/** Where a new row goes: before the first row after it in the sort; null past the last loaded row while more
 * pages follow (it will come on its own page); the end otherwise. */
function placeFor(t) {
  const key = sortKey(query.sort, t);
  for (const li of list.querySelectorAll("li[data-ticket-id]")) {
    if (compareKeys(key, sortKey(query.sort, keysOf(li))) < 0) return li;
  }
  return hasMore() ? null : "end";
}

let refetchTimer = null;

/** A ticket's row changed (a live `ticket` frame, or a row of the joined state). */
export function put(t, { flash: lit = false } = {}) {
  if (!list || !t || t.id === undefined || t.id === null) return;
  const verdict = matches(query, t, meId);
  const old = rowOf(t.id);
  if (verdict === null) refetchSoon();
  if (verdict === false) {
    if (old) drop(t.id);
    return;
  }
  const li = rowEl(t, look);
  const snippet = old?.querySelector(".ticket-snippet");
  if (snippet && !t.snippet) li.querySelector(".ticket-people").before(snippet); // live rows carry none: keep it
  if (old) {
    const hadFocus = old.contains(document.activeElement);
    old.replaceWith(li);
    if (hadFocus) li.querySelector("a").focus();
    if (lit) flash(li);
  } else {
    if (verdict === null || paged) return; // the server's answer will bring it / it belongs to the first page
    const place = placeFor(t);
    if (place === null) return;
    if (place === "end") list.append(li);
    else place.before(li);
    flash(li);
  }
  refreshTimes(li);
  showEmpty();
}

/** A ticket left the list (moved to another organisation, or it stopped matching). */
export function drop(id) {
  if (!list) return;
  rowOf(id)?.remove();
  showEmpty();
}

function apiUrl(search) {
  return `/api/tickets?${search}`;
}

async function fetchPage(search) {
  const r = await fetch(apiUrl(search), { headers: { Accept: "application/json" }, credentials: "same-origin" });
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new Error(body?.error?.message || `The list could not be loaded (HTTP ${r.status}).`);
  return body;
}

function setNext(cursor) {
  if (!more || !nextLink) return;
  if (!cursor) {
    more.hidden = true;
    nextLink.removeAttribute("href");
    return;
  }
  const params = new URLSearchParams(question);
  params.set("cursor", cursor);
  nextLink.href = `/tickets?${params}`;
  more.hidden = false;
}

/** Ask the server for the first page again and show it as it answers (rows it no longer has leave). */
export function refetchSoon() {
  if (paged || !list) return;
  clearTimeout(refetchTimer);
  refetchTimer = setTimeout(async () => {
    try {
      const page = await fetchPage(question);
      const rows = page.tickets.map((t) => rowEl(t, look));
      list.replaceChildren(...rows);
      for (const li of rows) refreshTimes(li);
      setNext(page.next);
      showEmpty();
    } catch (err) {
      if (moreState) moreState.textContent = err.message;
    }
  }, 250);
}

async function loadMore(event) {
  event.preventDefault();
  if (nextLink.getAttribute("aria-disabled") === "true") return;
  nextLink.setAttribute("aria-disabled", "true");
  moreState.textContent = "Loading…";
  try {
    const page = await fetchPage(new URL(nextLink.href).search.slice(1));
    for (const t of page.tickets) {
      if (rowOf(t.id)) continue; // already here: it moved up while this page was read
      const li = rowEl(t, look);
      list.append(li);
      refreshTimes(li);
    }
    setNext(page.next);
    moreState.textContent = page.tickets.length ? `${list.children.length} tickets shown.` : "";
  } catch (err) {
    moreState.textContent = `${err.message} Try again.`;
  } finally {
    nextLink.removeAttribute("aria-disabled");
  }
}

if (nextLink && !paged) {
  nextLink.textContent = "Load more";
  nextLink.addEventListener("click", loadMore);
}
