// Replies in the conversation: "Reply" on a message sets `reply_to`, and a reply shows a short
// quote of its parent that leads back to it.
import { h } from "./dom.js";

const QUOTE_CHARS = 140;
const $ = (id) => document.getElementById(id);

export function messageLi(seq) {
  return document.querySelector(`#messages li.msg[data-seq="${CSS.escape(String(seq))}"]:not(.is-pending)`);
}

/** Scroll a message into view and flash it, e.g. from a quote or the pinned guidance. */
export function showMessage(seq) {
  const li = messageLi(seq);
  if (!li) return false;
  li.scrollIntoView({ block: "center", behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
  li.classList.remove("is-flash");
  void li.offsetWidth; // restart the animation
  li.classList.add("is-flash");
  li.setAttribute("tabindex", "-1");
  li.focus({ preventScroll: true });
  return true;
}

export function shorten(text, max = QUOTE_CHARS) {
  const flat = String(text || "").replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat;
}

function parentOf(seq) {
  const li = messageLi(seq);
  if (!li) return null;
  const author = li.querySelector(".msg-author")?.textContent.replace(/ \(you\)$/, "") || "Someone";
  let body = li.querySelector(".msg-body")?.textContent || "";
  if (!body.trim()) {
    const files = [...li.querySelectorAll(".attachment-name")].map((a) => a.textContent);
    body = files.length ? `📎 ${files.join(", ")}` : "";
  }
  return { author, body };
}

/** The quote shown above a reply's text: a link to its parent. */
export function quoteEl(replyTo) {
  const seq = Number(replyTo);
  if (!Number.isFinite(seq) || seq <= 0) return null;
  const parent = parentOf(seq);
  const link = h("a", {
    href: `#msg-${seq}`,
    className: "msg-quote",
    dataset: { replyTo: String(seq) },
  },
  h("span", { className: "visually-hidden" }, "In reply to "),
  h("span", { className: "msg-quote-author" }, parent ? parent.author : "An earlier message"),
  parent ? h("span", { className: "msg-quote-text" }, shorten(parent.body)) : null);
  return link;
}

export function createThreads({ onSet } = {}) {
  const els = {
    messages: $("messages"),
    banner: $("reply-banner"),
    author: $("reply-author"),
    quote: $("reply-quote"),
    cancel: $("reply-cancel"),
    message: $("message"),
  };
  let replyTo = null;

  function set(seq) {
    const parent = parentOf(seq);
    if (!parent) return;
    replyTo = Number(seq);
    els.author.textContent = parent.author;
    els.quote.textContent = shorten(parent.body, 90);
    els.banner.hidden = false;
    els.banner.dataset.replyTo = String(seq);
    onSet?.(messageLi(seq));
    els.message.focus();
  }

  function clear() {
    replyTo = null;
    els.banner.hidden = true;
    delete els.banner.dataset.replyTo;
  }

  els.messages.addEventListener("click", (ev) => {
    const reply = ev.target.closest("button[data-action='reply']");
    if (reply) {
      set(reply.dataset.seq);
      return;
    }
    const quote = ev.target.closest("a.msg-quote");
    if (quote) {
      ev.preventDefault();
      showMessage(quote.dataset.replyTo);
    }
  });
  els.cancel.addEventListener("click", () => {
    clear();
    els.message.focus();
  });

  return { get replyTo() { return replyTo; }, set, clear };
}
