// One WebSocket to the livesupport server that keeps itself alive:
// pings, reconnects with backoff and jitter, and says what it is doing.

const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
const MAX_BACKOFF_S = 30;

/** Close codes that end the conversation with the server for good. */
const FINAL_CLOSES = {
  4401: "session",
  4403: "forbidden",
};

/**
 * A 1013 close whose reason says "retry after N s" (the server is busy connecting others):
 * N in seconds, at most MAX_BACKOFF_S; null for any other close.
 */
export function retryAfterSeconds(code, reason) {
  if (code !== 1013) return null;
  const found = /retry after (\d+(?:\.\d+)?)\s*s/i.exec(reason || "");
  return found ? Math.min(MAX_BACKOFF_S, Math.max(0.5, Number(found[1]))) : null;
}

export function wsUrl(path = "/ws") {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

/**
 * Events (EventTarget): "open" (detail {generation}), "frame" (detail: the parsed frame),
 * "state" (detail {state, retryAt, reason, attempt, busy}), "close" (detail {code, reason}).
 * States: "connecting", "open", "waiting" (retryAt set; busy when the server asked us to wait), "ended" (reason set).
 */
export class Live extends EventTarget {
  constructor(url = wsUrl(), { sessionCheckUrl = location.pathname } = {}) {
    super();
    this.url = url;
    this.sessionCheckUrl = sessionCheckUrl;
    this.ws = null;
    this.generation = 0;
    this.attempt = 0; // failed tries since the last healthy connection
    this.state = "idle";
    this.retryAt = 0;
    this.busy = false; // this wait is the server's: it turned us away in a reconnect storm ("retry after N s")
    this.notBefore = 0; // ...and nothing may reconnect before this instant, not even the network coming back
    this.endReason = null;
    this.everOpened = false;
    this._retryTimer = 0;
    this._pingTimer = 0;
    this._pongTimer = 0;
    this._pingCount = 0;
    this._last1013 = 0;

    // The network changed: a socket that looks open may be dead. Ask it, briefly.
    window.addEventListener("online", () => {
      if (this.state === "open") this.checkAlive(5_000);
      else if (Date.now() < this.notBefore) this._emitState(); // online again, but the server said when to come
      else this.reconnectNow();
    });
    window.addEventListener("offline", () => {
      if (this.state === "open") this.checkAlive(3_000);
      this._emitState();
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.state === "waiting") this.reconnectNow();
    });
  }

  /** Whole seconds until the next try (at least 1), while "waiting". */
  get retrySeconds() {
    return Math.max(1, Math.ceil((this.retryAt - Date.now()) / 1000));
  }

  /** What a page says while "waiting": when it tries again, and why when the server asked it to wait. */
  get waitingText() {
    return this.busy ? `Server busy – reconnecting in ${this.retrySeconds} s…` : `Reconnecting in ${this.retrySeconds} s…`;
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.state === "open";
  }

  start() {
    if (this.state === "ended") return;
    this._connect();
  }

  /** Call once the server has accepted us (e.g. on `joined`): the backoff starts again from 1 s. */
  markHealthy() {
    this.attempt = 0;
  }

  /** Send a frame now; false when there is no open socket (the caller keeps it for later). */
  send(frame) {
    if (!this.isOpen) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** Reconnect at once (the network is back, the tab is seen again, "Try now"), unless the server said when. */
  reconnectNow() {
    if (this.state === "ended") return;
    if (this.state === "open" || this.state === "connecting") return;
    if (Date.now() < this.notBefore) return; // the timer set for the server's delay stays
    clearTimeout(this._retryTimer);
    this._connect();
  }

  /** Stop for good, e.g. when the session has ended. */
  end(reason) {
    this.endReason = reason;
    clearTimeout(this._retryTimer);
    this._stopPing();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(1000); } catch { /* already closed */ }
    }
    this._setState("ended");
  }

  _connect() {
    clearTimeout(this._retryTimer);
    this.busy = false;
    this.generation += 1;
    const generation = this.generation;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this._scheduleRetry(false);
      return;
    }
    this.ws = ws;
    this._setState("connecting");
    let opened = false;

    ws.onopen = () => {
      if (generation !== this.generation) return;
      opened = true;
      this.everOpened = true;
      this._setState("open");
      this._startPing();
      this.dispatchEvent(new CustomEvent("open", { detail: { generation } }));
    };
    ws.onmessage = (msg) => {
      if (generation !== this.generation) return;
      let frame;
      try {
        frame = JSON.parse(msg.data);
      } catch {
        console.warn("livesupport: a frame that is not JSON", msg.data);
        return;
      }
      if (!frame || typeof frame !== "object") return;
      if (frame.type === "pong") clearTimeout(this._pongTimer);
      this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
    };
    ws.onerror = () => { /* onclose follows and says more */ };
    ws.onclose = (ev) => {
      if (generation !== this.generation) return;
      this._closed(ev.code, ev.reason, opened);
    };
  }

  _closed(code, reason, opened) {
    this._stopPing();
    this.ws = null;
    this.dispatchEvent(new CustomEvent("close", { detail: { code, reason } }));
    if (Object.hasOwn(FINAL_CLOSES, code)) {
      this.end(FINAL_CLOSES[code]);
      return;
    }
    const busyFor = retryAfterSeconds(code, reason);
    this.busy = busyFor !== null;
    if (busyFor !== null) {
      // The server is shedding a reconnect storm: come back no sooner than it said, spread out
      // over twice that (so the clients it turned away do not all return in the same instant).
      this.notBefore = Date.now() + busyFor * 1000;
      this._retryIn(busyFor * 1000 * (1 + Math.random()));
      return;
    }
    if (code === 1013) {
      // Overloaded or we were too slow: come back at once (and resume with `since`),
      // unless it keeps happening, then back off like any other close.
      const now = Date.now();
      const again = now - this._last1013 < 10_000;
      this._last1013 = now;
      if (!again) {
        this._connect();
        return;
      }
    }
    this._scheduleRetry(opened);
  }

  async _scheduleRetry(opened) {
    this.attempt += 1;
    // A handshake refused before the upgrade (HTTP 401) looks like any network failure
    // to a browser: after two of those in a row, ask the page itself whether we are still signed in.
    if (!opened && this.attempt >= 2 && navigator.onLine) {
      const signedOut = await this._sessionEnded();
      if (signedOut) {
        this.end("session");
        return;
      }
    }
    const base = Math.min(MAX_BACKOFF_S, 2 ** (this.attempt - 1));
    const jitter = base * (0.8 + Math.random() * 0.4);
    this._retryIn(Math.min(MAX_BACKOFF_S, jitter) * 1000);
  }

  _retryIn(ms) {
    const delayMs = Math.round(ms);
    this.retryAt = Date.now() + delayMs;
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(() => this._connect(), delayMs);
    this._setState("waiting");
  }

  async _sessionEnded() {
    try {
      const res = await fetch(this.sessionCheckUrl, {
        method: "GET",
        redirect: "manual",
        cache: "no-store",
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      return res.type === "opaqueredirect" || res.status === 401;
    } catch {
      return false;
    }
  }

  /** Ping now; no pong within `withinMs` and the connection is taken as lost. */
  checkAlive(withinMs = PONG_WITHIN_MS) {
    this._pingCount += 1;
    if (!this.send({ type: "ping", ref: `ping-${this._pingCount}` })) return;
    clearTimeout(this._pongTimer);
    this._pongTimer = setTimeout(() => this._dead(), withinMs);
  }

  _startPing() {
    this._stopPing();
    this._pingTimer = setInterval(() => this.checkAlive(PONG_WITHIN_MS), PING_EVERY_MS);
  }

  _stopPing() {
    clearInterval(this._pingTimer);
    clearTimeout(this._pongTimer);
  }

  /** No pong: the connection is gone even if the browser has not noticed yet. */
  _dead() {
    const ws = this.ws;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try { ws.close(4000, "no pong"); } catch { /* ignore */ }
    this._closed(1006, "no pong", true);
  }

  _setState(state) {
    this.state = state;
    this._emitState();
  }

  _emitState() {
    this.dispatchEvent(new CustomEvent("state", {
      detail: {
        state: this.state, retryAt: this.retryAt, reason: this.endReason, attempt: this.attempt, busy: this.busy,
      },
    }));
  }
}
