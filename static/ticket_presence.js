// Who is here: the typing line, the presence list and viewer count, and (staff) "I'm working on this".
import { h, joinNames, roleBadge } from "./dom.js";
import { initials, isStaffRole } from "./format.js";
import { live } from "./socket.js";
import { els, isStaff, me, state, topic, TYPING_SHOWN_MS } from "./ticket_core.js";

export function renderTyping() {
  const now = Date.now();
  for (const [id, t] of state.typers) if (t.until <= now) state.typers.delete(id);
  const names = [...state.typers.values()].map((t) => t.name);
  let text = "";
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = "Several people are typing…";
  if (els.typing.textContent !== text) els.typing.textContent = text;
  els.typing.dataset.active = text ? "true" : "false";
  if (state.typers.size) {
    const next = Math.min(...[...state.typers.values()].map((t) => t.until));
    clearTimeout(renderTyping.timer);
    renderTyping.timer = setTimeout(renderTyping, Math.max(50, next - now + 20));
  }
}

export function onTyping(frame) {
  if (frame.topic && frame.topic !== topic) return;
  const user = frame.user || {};
  const id = String(user.id ?? "");
  if (!id || id === me.id) return;
  state.typers.set(id, { name: user.name || "Someone", until: Date.now() + TYPING_SHOWN_MS });
  renderTyping();
}

export function stopTyping(userId) {
  if (state.typers.delete(String(userId))) renderTyping();
}

// ---------------------------------------------------------------------------
// Presence

export function onPresence(frame) {
  if (frame.topic && frame.topic !== topic) return;
  const members = Array.isArray(frame.members) ? frame.members : [];
  const viewers = Number.isFinite(Number(frame.viewers)) ? Number(frame.viewers) : new Set(members.map((m) => m.id)).size;
  els.viewerCount.textContent = `${viewers} viewing`;
  els.viewerCount.hidden = false;

  // One line per person, me first, then staff, then the rest, as the server listed them.
  const seen = new Set();
  const people = [];
  for (const m of members) {
    const id = String(m.id);
    if (seen.has(id)) continue;
    seen.add(id);
    people.push({ ...m, id });
  }
  const rank = (m) => (m.id === me.id ? 0 : isStaffRole(m.role) ? 1 : 2);
  people.sort((a, b) => rank(a) - rank(b));

  const items = people.map((m) => {
    const working = m.state === "working";
    const li = h("li", {
      className: `presence-item${m.id === me.id ? " is-me" : ""}${working ? " is-working" : ""}`,
      dataset: { userId: m.id, state: m.state || "viewing" },
    },
    h("span", { className: "avatar", "aria-hidden": "true" }, initials(m.name)),
    h("span", { className: "presence-text" },
      h("span", { className: "presence-name" }, m.name || "Someone", m.id === me.id ? h("span", { className: "muted" }, " (you)") : null),
      h("span", { className: "presence-meta" },
        roleBadge(m.role, m.tier),
        working ? h("span", { className: "presence-state state-working" }, "working on it") : null,
        m.state === "typing" ? h("span", { className: "presence-state state-typing" }, "typing…") : null,
      ),
    ),
    );
    return li;
  });
  els.presence.replaceChildren(...items);

  // Clients are told in words who is working on their ticket.
  const workers = people.filter((m) => m.state === "working" && isStaffRole(m.role) && m.id !== me.id);
  if (workers.length) {
    const names = workers.map((m) => (m.tier ? `${m.name} (Level ${m.tier})` : m.name));
    const verb = workers.length === 1 ? "is" : "are";
    els.workingNote.textContent = isStaff
      ? `${joinNames(names)} ${verb} working on this ticket`
      : `${joinNames(names)} ${verb} working on your ticket`;
    els.workingNote.hidden = false;
  } else {
    els.workingNote.textContent = "";
    els.workingNote.hidden = true;
  }

  const mine = people.find((m) => m.id === me.id);
  if (mine && isStaff && els.workingToggle && !els.workingToggle.dataset.busy) {
    renderWorking(mine.state === "working");
  }
}

// ---------------------------------------------------------------------------
// Staff: working toggle and status form

export function renderWorking(on) {
  if (!els.workingToggle) return;
  els.workingToggle.setAttribute("aria-pressed", on ? "true" : "false");
  els.workingToggle.textContent = on ? "Stop working" : "I'm working on this";
  els.workingToggle.classList.toggle("is-on", on);
}

if (els.workingToggle) {
  els.workingToggle.addEventListener("click", () => {
    state.working = els.workingToggle.getAttribute("aria-pressed") !== "true";
    renderWorking(state.working);
    // Presence frames in between would show the old state; hold them off briefly.
    els.workingToggle.dataset.busy = "true";
    setTimeout(() => delete els.workingToggle.dataset.busy, 1500);
    if (state.ready) live.send({ type: "activity", topic, state: state.working ? "working" : "viewing" });
  });
}

