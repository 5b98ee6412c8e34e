// The connection banner: Live, reconnecting, offline with unsent messages, or ended (and why).
import { h } from "./dom.js";
import { live } from "./socket.js";
import { setPendingLabel } from "./ticket_conversation.js";
import { els, page, pending, state } from "./ticket_core.js";

export let bannerTimer = 0;

export function hasUnsent() {
  for (const entry of pending.values()) if (entry.generation !== live.generation || !state.ready) return true;
  return false;
}

export function renderBanner() {
  clearTimeout(bannerTimer);
  const s = live.state;
  let mode;
  let text;
  let detail = "";
  els.connRetry.hidden = true;
  if (s === "ended") {
    mode = "ended";
    if (live.endReason === "session") {
      // The words themselves are the link, so the banner reads as one sentence.
      text = "Your session has ended – please log in again";
      if (els.connText.textContent !== text) {
        const next = encodeURIComponent(location.pathname);
        els.connText.replaceChildren(
          "Your session has ended – please ",
          h("a", { href: `/login?next=${next}`, id: "conn-login", className: "conn-action" }, "log in again"),
        );
      }
    } else {
      text = "You do not have access to this ticket any more";
    }
  } else if (s === "open" && state.ready) {
    mode = "live";
    text = "Live";
  } else if (s === "waiting") {
    const retryText = `Reconnecting in ${live.retrySeconds} s…`;
    if (!navigator.onLine || (hasUnsent() && !live.busy)) {
      mode = "offline";
      text = "Offline – your message will be sent when we reconnect";
      detail = retryText;
    } else if (live.busy) {
      // Turned away in a reconnect storm: nothing is wrong, the server asked us to come back a little later.
      mode = "reconnecting";
      text = live.waitingText;
      if (hasUnsent()) detail = "Your message will be sent when we reconnect";
    } else {
      mode = "reconnecting";
      text = retryText;
    }
    els.connRetry.hidden = live.busy; // "Try now" would only be turned away again
    bannerTimer = setTimeout(renderBanner, 1000 - (Date.now() % 1000) + 20);
  } else {
    mode = "connecting";
    text = state.everJoined || live.generation > 1 ? "Reconnecting…" : "Connecting…";
    if (hasUnsent()) detail = "Your message will be sent when we reconnect";
  }
  // Away from "Live", the banner floats at the top of the screen, so it is seen wherever one has scrolled to.
  els.conn.dataset.float = mode === "live" || (mode === "connecting" && !state.everJoined) ? "false" : "true";
  // Screen readers hear each change of state once, not every tick of the countdown.
  els.connState.setAttribute("aria-busy", mode === els.connState.dataset.state && s === "waiting" ? "true" : "false");
  els.connState.dataset.state = mode;
  if (els.connText.textContent !== text) els.connText.textContent = text;
  if (els.connDetail.textContent !== detail) els.connDetail.textContent = detail;
  els.connDetail.hidden = !detail;
  page.dataset.conn = mode;
}

live.addEventListener("state", () => {
  if (live.state !== "open") setNotReady();
  renderBanner();
});
els.connRetry.addEventListener("click", () => live.reconnectNow());

export function setNotReady() {
  state.ready = false;
  clearTimeout(state.replayTimer);
  for (const entry of pending.values()) {
    if (entry.li) setPendingLabel(entry.li, "Sending…");
  }
}
