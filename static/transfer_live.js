// A transfer's pages, live: a party's page (by their personal link), a staff member's, and the staff board.
// When a `transfer` frame arrives, the live part of the page is fetched again from the server, so the page
// always shows what the same template renders. A form someone is filling in is never swept away: when what
// they can do changes, they are told, and the page reloads itself only when nothing is typed.
import { refreshTimes } from "./app.js";
import { Live, wsUrl } from "./live.js";

const card = document.getElementById("transfer");
const board = document.getElementById("transfer-board");
const root = card || board;
const conn = document.getElementById("transfer-conn");

function connText(live) {
  if (live.state === "open") return ["live", "Live"];
  if (live.state === "waiting") {
    return ["reconnecting", `Reconnecting in ${Math.max(1, Math.ceil((live.retryAt - Date.now()) / 1000))} s…`];
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

let fetching = null;
let again = false;

async function refresh() {
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
      if (rows) document.getElementById("transfer-rows").replaceWith(rows);
      refreshTimes(board);
      return;
    }
    const status = doc.getElementById("transfer-status");
    const current = document.getElementById("transfer-status");
    if (!status || !current) return;
    const moved = status.dataset.state !== current.dataset.state || status.dataset.active !== current.dataset.active;
    current.replaceWith(status);
    refreshTimes(card);
    const panel = document.getElementById("transfer-action");
    if (moved && panel) {
      if (typedSomething(panel)) document.getElementById("transfer-changed")?.removeAttribute("hidden");
      else location.replace(location.pathname); // what they can do changed: show it (a GET, never a repost)
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
