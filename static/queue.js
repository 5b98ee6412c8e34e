// The ticket list, live: counters at the top, rows that change as tickets do (list_view.js keeps them
// true to the list's filters and sort). Staff follow `queue`; clients follow their organisation,
// and a partner its own and its clients' (the counts are added up).
import { drop, put } from "./list_view.js";
import { live, follow, reportTimeZone, startLive } from "./socket.js";

const board = document.getElementById("dashboard");
const list = document.getElementById("ticket-list");
const counters = document.getElementById("counters");
const conn = document.getElementById("list-conn");
const connText = document.getElementById("list-conn-text");

/** topic -> its latest counts */
const countsByTopic = new Map();

function setCounts(topic, counts) {
  if (!counts || typeof counts !== "object") return;
  countsByTopic.set(topic, counts);
  for (const li of counters.querySelectorAll("li[data-count]")) {
    const key = li.dataset.count;
    let total = 0;
    let known = false;
    for (const c of countsByTopic.values()) {
      if (!(key in c)) continue;
      known = true;
      total += Number(c[key]) || 0;
    }
    if (!known) continue;
    const value = String(total);
    const out = li.querySelector(".counter-value");
    if (li.dataset.value !== value) {
      if (li.dataset.value !== "") {
        li.classList.remove("is-changed");
        void li.offsetWidth;
        li.classList.add("is-changed");
      }
      li.dataset.value = value;
      out.textContent = value;
    }
    li.dataset.zero = value === "0" ? "true" : "false";
  }
  counters.setAttribute("aria-busy", "false");
}

/** topic -> "joined" | "refused", on this connection */
const joined = new Map();

function renderConn() {
  const s = live.state;
  let mode = "connecting";
  let text = "Connecting…";
  const answered = [...joined.values()];
  if (s === "open" && answered.includes("joined")) {
    mode = "live";
    text = "Live";
  } else if (s === "waiting") {
    mode = "reconnecting";
    text = live.waitingText;
    setTimeout(renderConn, 1000);
  } else if (s === "ended") {
    mode = "ended";
    text = live.endReason === "session" ? "Your session has ended – reload to log in" : "Not live";
  } else if (s === "open" && answered.length && answered.every((a) => a === "refused")) {
    mode = "ended";
    text = "Live counts are not available";
  }
  conn.dataset.state = mode;
  if (connText.textContent !== text) connText.textContent = text;
}

function followTopic(topic) {
  follow(topic, {
    onJoined: (frame) => {
      joined.set(topic, "joined");
      const state = frame.state || {};
      setCounts(topic, state.counts);
      if (Array.isArray(state.tickets)) {
        // Rows first seen now (opened while we were away) go on top, newest first.
        const rows = [...state.tickets].sort((a, b) => String(a.updated_at).localeCompare(String(b.updated_at)));
        for (const row of rows) put(row);
      }
      renderConn();
    },
    onFrame: (frame) => {
      if (frame.type === "counters") setCounts(topic, frame.counts);
      else if (frame.type === "ticket") put(frame.ticket, { flash: true });
      else if (frame.type === "ticket_gone") drop(frame.id);
    },
    onRefused: (error) => {
      joined.set(topic, "refused");
      console.info(`livesupport: live list ${topic} refused:`, error.code);
      renderConn();
    },
  });
}

if (board && list) {
  live.addEventListener("state", () => {
    if (live.state !== "open") joined.clear();
    renderConn();
  });
  // The list's days are read on the person's own clock: the server's, unless it already has this browser's.
  reportTimeZone(document.getElementById("filter-days")?.dataset.timeZone || "");
  for (const topic of (board.dataset.topics || "").split(/\s+/).filter(Boolean)) followTopic(topic);
  renderConn();
  startLive();
}
