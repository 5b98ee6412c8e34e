// Pinned guidance for staff: a Level 3 engineer or an admin pins an internal note, and it
// shows above the conversation for everyone on the staff side until it is unpinned.
import { timeEl } from "./dom.js";
import { request } from "./socket.js";
import { messageLi, showMessage } from "./threads.js";

const $ = (id) => document.getElementById(id);

export function createGuidance({ topic, canPin }) {
  const els = {
    panel: $("guidance"),
    by: $("guidance-by"),
    body: $("guidance-body"),
    link: $("guidance-link"),
    unpin: $("guidance-unpin"),
    error: $("guidance-error"),
    messages: $("messages"),
  };
  if (!els.panel) return { applyState() {}, onPin() {}, refreshMessage() {} };
  let pinned = null; // {seq, body, actor, at}

  function markMessages() {
    for (const li of els.messages.querySelectorAll("li.msg.is-pinned")) {
      if (!pinned || li.dataset.seq !== String(pinned.seq)) refreshMessage(li, false);
    }
    const li = pinned ? messageLi(pinned.seq) : null;
    if (li) refreshMessage(li, true);
  }

  /** The "Pin as guidance" button of one internal note says what pressing it does now. */
  function refreshMessage(li, isPinned = pinned && li.dataset.seq === String(pinned.seq)) {
    li.classList.toggle("is-pinned", Boolean(isPinned));
    const button = li.querySelector("button[data-action='pin']");
    if (button) {
      button.textContent = isPinned ? "Unpin" : "Pin as guidance";
      button.setAttribute("aria-pressed", isPinned ? "true" : "false");
    }
  }

  function render() {
    els.panel.hidden = !pinned;
    if (pinned) {
      els.body.textContent = String(pinned.body || "");
      const parts = [];
      if (pinned.actor?.name) parts.push(`pinned by ${pinned.actor.name}`);
      els.by.replaceChildren(...parts, pinned.at ? " · " : "", pinned.at ? timeEl(pinned.at, "guidance-time") : "");
      els.link.href = `#msg-${pinned.seq}`;
      els.link.dataset.seq = String(pinned.seq);
      els.panel.dataset.seq = String(pinned.seq);
    } else {
      delete els.panel.dataset.seq;
    }
    markMessages();
  }

  function applyState(state) {
    if (!state || !("pinned" in state)) return;
    pinned = state.pinned && state.pinned.seq !== null && state.pinned.seq !== undefined ? state.pinned : null;
    render();
  }

  function onPin(ev) {
    const data = ev.data || {};
    if (data.seq === null || data.seq === undefined) pinned = null;
    else pinned = { seq: data.seq, body: data.body, actor: ev.actor, at: ev.at };
    render();
  }

  async function pin(seq) {
    els.error.hidden = true;
    const reply = await request({ type: "pin", topic, seq });
    if (!reply.ok) {
      els.error.textContent = reply.error?.message || "The guidance could not be changed.";
      els.error.hidden = false;
      els.error.scrollIntoView({ block: "nearest" });
    }
  }

  els.link.addEventListener("click", (ev) => {
    if (showMessage(els.link.dataset.seq)) ev.preventDefault();
  });
  if (canPin) {
    els.unpin?.addEventListener("click", () => pin(null));
    els.messages.addEventListener("click", (ev) => {
      const button = ev.target.closest("button[data-action='pin']");
      if (!button) return;
      const seq = Number(button.dataset.seq);
      pin(pinned && Number(pinned.seq) === seq ? null : seq);
    });
  }

  return { applyState, onPin, refreshMessage };
}
