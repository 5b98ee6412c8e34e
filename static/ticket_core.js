// The ticket page's shared ground: who I am, the ticket, the page's elements and the live state every part reads.
// No imports: every other ticket_* module builds on this one.
export const TYPING_SEND_EVERY_MS = 3_000;
export const TYPING_SHOWN_MS = 5_000;
export const REPLAY_GRACE_MS = 4_000;
export const SEEN_EVERY_MS = 2_000;

export const page = document.getElementById("ticket-page");
export const ticketId = page.dataset.ticketId;
export const me = {
  id: String(page.dataset.meId),
  name: page.dataset.meName || "",
  role: page.dataset.meRole || "",
  tier: Number(page.dataset.meTier) || undefined,
};
export const isStaff = page.dataset.staff === "true";
export const canPin = page.dataset.canPin === "true";
export const topic = `ticket:${ticketId}`;
export const draftKey = `livesupport:draft:${ticketId}`;

export const $ = (id) => document.getElementById(id);
export const els = {
  conn: $("conn"),
  connState: $("conn-state"),
  connText: $("conn-text"),
  connDetail: $("conn-detail"),
  connRetry: $("conn-retry"),
  status: $("status"),
  viewerCount: $("viewer-count"),
  presence: $("presence"),
  workingNote: $("working-note"),
  messages: $("messages"),
  placeholder: $("messages-placeholder"),
  typing: $("typing"),
  composer: $("composer"),
  message: $("message"),
  messageLabel: $("message-label"),
  send: $("send"),
  internal: $("internal"),
  internalBanner: $("internal-banner"),
  composerError: $("composer-error"),
  composerErrorText: $("composer-error-text"),
  sendAnyway: $("send-anyway"),
  statusForm: $("status-form"),
  statusSelect: $("status-select"),
  nextUpdateInput: $("next-update-input"),
  statusSave: $("status-save"),
  statusError: $("status-error"),
  statusNote: $("status-note"),
  workingToggle: $("working-toggle"),
};

export const state = {
  lastSeq: 0,
  ready: false, // joined on this connection and the replay is in
  replayTo: 0,
  replayTimer: 0,
  joinRef: null,
  status: page.dataset.status || "",
  seenSent: 0,
  seenTimer: 0,
  working: false, // what I asked for; re-announced after each reconnect
  statusDirty: false,
  lastTypingSent: 0,
  typers: new Map(), // user id -> {name, until}
  everJoined: false,
};

/** seq -> <li>; a provisional <li> (from a reply) is replaced when its event arrives. */
export const rendered = new Map();
/** ref -> {kind, frame, li, generation}: sent and not yet answered, or waiting to be sent. */
export const pending = new Map();
