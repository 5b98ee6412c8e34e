// /reports: today's counters, live. The staff queue's socket topic says when tickets change (its counters carry
// "open" and "overdue"); opened and solved today are asked of /api/reports/today then, at most every 2 s.
import { live, follow, startLive } from "./socket.js";

const panel = document.getElementById("reports-today");
const conn = document.getElementById("today-conn");
const connText = document.getElementById("today-conn-text");
let asking = null;

function show(key, value) {
  const out = document.getElementById(`today-${key}`);
  if (!out || value === undefined || value === null) return;
  const text = String(value);
  if (out.textContent !== text) out.textContent = text;
}

function refresh() {
  if (asking) return;
  asking = setTimeout(async () => {
    try {
      const r = await fetch("/api/reports/today", { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (r.ok) {
        const today = await r.json();
        for (const key of ["opened", "solved", "open", "overdue"]) show(key, today[key]);
      }
    } finally {
      asking = null;
    }
  }, 2000);
}

function state(mode, text) {
  conn.dataset.state = mode;
  if (connText.textContent !== text) connText.textContent = text;
}

if (panel) {
  follow("queue", {
    options: { state: true },
    onJoined: (frame) => {
      const counts = (frame.state || {}).counts || {};
      show("open", counts.open);
      show("overdue", counts.overdue);
      state("live", "Live");
      refresh();
    },
    onFrame: (frame) => {
      if (frame.type === "counters") {
        show("open", frame.counts.open);
        show("overdue", frame.counts.overdue);
      }
      if (frame.type === "counters" || frame.type === "ticket") refresh();
    },
    onRefused: () => state("ended", "Not live: reload to see the latest"),
  });
  const waiting = () => {
    if (live.state !== "waiting") return;
    state("reconnecting", live.waitingText); // counts down; says so when the server asked us to wait
    setTimeout(waiting, 1000);
  };
  live.addEventListener("state", () => {
    if (live.state === "waiting") waiting();
    else if (live.state === "ended") state("ended", "Not live: reload to see the latest");
  });
  startLive();
}
