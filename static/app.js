// Small touches for every page: local times, and forms that say they are working.
import { localiseTimes, nextUpdateText, parseInstant, shortTime, span } from "./format.js";

/** Local times and next-update promises under `root`, as of now. */
export function refreshTimes(root = document) {
  localiseTimes(root);
  const now = new Date();
  for (const el of root.querySelectorAll("[data-next-update]:not(main)")) {
    const at = parseInstant(el.dataset.nextUpdate);
    if (!at) continue;
    const { state } = nextUpdateText(el.dataset.nextUpdate, now);
    el.dataset.state = state;
    const parent = el.parentElement;
    let rest = parent.querySelector(".next-in");
    if (state === "overdue") {
      el.textContent = "Next update overdue";
      rest?.remove();
      continue;
    }
    el.textContent = `Next update by ${shortTime(at, now)}`;
    if (!rest) {
      rest = document.createElement("span");
      rest.className = "next-in";
      parent.append(rest);
    }
    rest.textContent = `in ${span(at - now)}`;
  }
}

function busyForms() {
  for (const form of document.querySelectorAll("form[method='post' i]")) {
    form.addEventListener("submit", (ev) => {
      if (ev.defaultPrevented) return;
      const button = form.querySelector("button[type='submit'][data-busy-label]");
      if (!button) return;
      if (form.dataset.submitting === "true") {
        ev.preventDefault(); // a second tap would send the form twice
        return;
      }
      form.dataset.submitting = "true";
      button.setAttribute("aria-disabled", "true");
      button.dataset.label = button.textContent;
      button.textContent = button.dataset.busyLabel;
    });
  }
  // Coming back with the browser's back button shows the page as it was left.
  window.addEventListener("pageshow", (ev) => {
    if (!ev.persisted) return;
    for (const form of document.querySelectorAll("form[data-submitting='true']")) {
      delete form.dataset.submitting;
      const button = form.querySelector("button[data-label]");
      if (button) {
        button.textContent = button.dataset.label;
        button.removeAttribute("aria-disabled");
      }
    }
  });
}

/** The header's "More" menu closes on Escape and on a tap or click anywhere else. */
function navMenu() {
  const more = document.getElementById("nav-more");
  if (!more) return;
  document.addEventListener("click", (ev) => {
    if (more.open && !more.contains(ev.target)) more.open = false;
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && more.open) {
      more.open = false;
      more.querySelector("summary").focus();
    }
  });
}

/** On a phone the header's links scroll sideways: the current page's link is brought into view, and a faded edge
 * says there are more links on that side. */
function navStrip() {
  const nav = document.querySelector(".main-nav");
  if (!nav) return;
  const edges = () => {
    const hidden = nav.scrollWidth - nav.clientWidth;
    nav.classList.toggle("is-clipped-start", hidden > 1 && nav.scrollLeft > 1);
    nav.classList.toggle("is-clipped-end", hidden > 1 && nav.scrollLeft < hidden - 1);
  };
  const current = nav.querySelector(":scope > a[aria-current='page'], :scope > details > summary[aria-current='page']");
  if (current && nav.scrollWidth > nav.clientWidth) {
    const box = nav.getBoundingClientRect();
    const link = current.getBoundingClientRect();
    const edge = 32; // clear of the faded edge
    if (link.right > box.right - edge) nav.scrollLeft += link.right - box.right + edge;
    else if (link.left < box.left + edge) nav.scrollLeft -= box.left + edge - link.left;
  }
  edges();
  nav.addEventListener("scroll", edges, { passive: true });
  window.addEventListener("resize", edges);
}

refreshTimes();
busyForms();
navMenu();
navStrip();
setInterval(() => refreshTimes(document), 30_000);
