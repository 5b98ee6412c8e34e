// A transfer's pages, live: a party's page (by their personal link), a staff member's, and the staff board.
// When a `transfer` frame arrives, the live part of the page is fetched again from the server, so the page
// always shows what the same template renders. A form someone is filling in is never swept away: when what
// they can do changes, they are told, and the page reloads itself only when nothing is typed. What they cannot
// act on (another party's step) just updates in place, with the milestones that moved briefly highlighted.
import { refreshTimes } from "./app.js";
import { Live, wsUrl } from "./live.js";

const card = document.getElementById("transfer");
const board = document.getElementById("transfer-board");
const root = card || board;
const conn = document.getElementById("transfer-conn");
// The page itself, by GET: after an action the address is the form's (…/sign, /transfers/7/move), which a reload
// would post again or not find. The address bar shows the page's own address instead.
const pageUrl = root?.dataset.statusUrl?.replace(/\/status$/, "");
if (card && pageUrl && location.pathname !== pageUrl) history.replaceState(history.state, "", pageUrl);

function connText(live) {
  if (live.state === "open") return ["live", "Live"];
  if (live.state === "waiting") {
    return ["reconnecting", live.waitingText];
  }
  if (live.state === "ended") {
    return ["ended", live.endReason === "session" ? "Link no longer valid: reload the page" : "Not live: reload the page"];
  }
  return ["connecting", "Connecting…"];
}

function showConn(live) {
  if (!conn) return;
  const [state, text] = connText(live);
  conn.dataset.state = state;
  const label = conn.querySelector(".conn-state");
  if (label && label.textContent !== text) label.textContent = text;
}

function typedSomething(panel) {
  if (!panel) return false;
  if (panel.contains(document.activeElement) && document.activeElement.matches("input, textarea, select")) return true;
  return [...panel.querySelectorAll("textarea, input[type='text']")].some((el) => el.value.trim() !== "");
}

// What the action panel shows depends on these parts of its key ("role:confirm:partner:provider:state" for a
// party, "staff:confirm:move:complete:state:escalated" for staff): a party's own step and the transfer's state.
const MINE = { requester: [0, 1, 4], current_partner: [0, 2, 4], new_provider: [0, 3, 4] };

function sameActions(shown, now) {
  if (!shown || !now) return true;
  const a = shown.split(":");
  const b = now.split(":");
  const parts = MINE[a[0]] ?? a.map((_, i) => i);
  return parts.every((i) => a[i] === b[i]);
}

// Highlights what moved since the last rendering: `sign` sums up an element (times left out: the shown ones
// are already in local time, the new ones not yet).
function markChanged(before, after, selector, key, sign) {
  const old = new Map([...before.querySelectorAll(selector)].map((el) => [el.getAttribute(key), sign(el)]));
  for (const el of after.querySelectorAll(selector)) {
    if (old.get(el.getAttribute(key)) !== sign(el)) el.classList.add("is-changed");
  }
}

const rowSign = (el) =>
  [el.dataset.state, el.classList.contains("is-overdue"), el.classList.contains("needs-staff"),
    el.querySelector(".transfer-row-state-text")?.textContent].join("|");
const milestoneSign = (el) => `${el.dataset.state}|${el.classList.contains("milestone-overdue")}`;

// A form on its way to the server: the page is about to be replaced by the answer, which a reload now would
// cancel (the action done, but its "Thank you" lost). Nothing is refreshed from then on.
let leaving = false;
window.addEventListener("submit", (ev) => {
  if (!ev.defaultPrevented) leaving = true;
});
window.addEventListener("pageshow", (ev) => {
  if (ev.persisted) leaving = false; // back from the history with the browser's Back button
});

let fetching = null;
let again = false;

async function refresh() {
  if (leaving) return;
  if (fetching) {
    again = true; // one more fetch once this one is done: the newest state always wins
    return;
  }
  fetching = fetch(root.dataset.statusUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } });
  try {
    const res = await fetching;
    if (!res.ok) return;
    const html = await res.text();
    const doc = new DOMParser().parseFromString(html, "text/html");
    if (board) {
      const rows = doc.getElementById("transfer-rows");
      const current = document.getElementById("transfer-rows");
      if (rows && current) {
        markChanged(current, rows, ".transfer-row", "data-id", rowSign);
        current.replaceWith(rows);
      }
      refreshTimes(board);
      return;
    }
    if (leaving) return;
    const status = doc.getElementById("transfer-status");
    const current = document.getElementById("transfer-status");
    if (!status || !current) return;
    markChanged(current, status, ".milestone", "data-kind", milestoneSign);
    current.replaceWith(status);
    refreshTimes(card);
    const panel = document.getElementById("transfer-action");
    if (panel && !sameActions(panel.dataset.key, status.dataset.actionKey)) {
      if (typedSomething(panel)) document.getElementById("transfer-changed")?.removeAttribute("hidden");
      else location.replace(pageUrl); // what they can do changed: show it (a GET, never a repost)
    }
  } catch {
    // offline: the next frame or reconnection fetches again
  } finally {
    fetching = null;
    if (again) {
      again = false;
      refresh();
    }
  }
}

if (root) {
  const party = card?.dataset.party;
  const id = card?.dataset.transferId;
  const topic = board ? "transfers" : `transfer:${id}`;
  const url = party ? wsUrl(`/ws?party=${encodeURIComponent(party)}&transfer=${encodeURIComponent(id)}`) : wsUrl();
  const live = new Live(url);
  let joinRef = null;
  let joinedOnce = false;
  live.addEventListener("state", () => showConn(live));
  live.addEventListener("open", () => {
    joinRef = `join-${Date.now().toString(36)}`;
    live.send({ type: "join", topic, ref: joinRef });
  });
  live.addEventListener("frame", (ev) => {
    const frame = ev.detail;
    if (frame.type === "joined" && frame.ref === joinRef) {
      live.markHealthy();
      if (joinedOnce) refresh(); // back after a break: catch up on what happened meanwhile
      joinedOnce = true;
    } else if (frame.type === "transfer" && frame.topic === topic) {
      refresh();
    }
  });
  setInterval(() => showConn(live), 1000);
  live.start();
}
