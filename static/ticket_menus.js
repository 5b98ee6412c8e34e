// Menus, dialogs and the phone's section menu: everything opens on a tap or a key, nothing on hover.
const page = document.getElementById("ticket-page");

// ---------------------------------------------------------------------------
// Pop-up menus: a button with aria-haspopup controls a list; a tap elsewhere or Escape closes it.

const toggles = [...document.querySelectorAll("button[aria-haspopup][aria-controls], #section-menu-toggle")];

function listOf(toggle) {
  return document.getElementById(toggle.getAttribute("aria-controls"));
}

function setOpen(toggle, open) {
  const list = listOf(toggle);
  if (!list) return;
  list.hidden = !open;
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
}

function closeAll(except = null) {
  for (const t of toggles) if (t !== except && t.getAttribute("aria-expanded") === "true") setOpen(t, false);
}

for (const toggle of toggles) {
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    closeAll(toggle);
    setOpen(toggle, open);
    if (open) listOf(toggle)?.querySelector("button, a")?.focus({ preventScroll: true });
  });
}

document.addEventListener("click", (ev) => {
  for (const t of toggles) {
    if (t.getAttribute("aria-expanded") !== "true") continue;
    if (t.contains(ev.target) || listOf(t)?.contains(ev.target)) continue;
    setOpen(t, false);
  }
});

document.addEventListener("keydown", (ev) => {
  if (ev.key !== "Escape") return;
  const open = toggles.find((t) => t.getAttribute("aria-expanded") === "true");
  if (open) {
    setOpen(open, false);
    open.focus();
  }
});

// ---------------------------------------------------------------------------
// Dialogs for the actions with fields (bring in an engineer, inform a contact, move the ticket).

for (const opener of document.querySelectorAll("[data-dialog]")) {
  opener.addEventListener("click", () => {
    const dialog = document.getElementById(opener.dataset.dialog);
    if (!dialog) return;
    closeAll();
    dialog.showModal();
    dialog.querySelector("select, input:not([type=hidden]), textarea")?.focus();
  });
}
for (const dialog of document.querySelectorAll("dialog.ws-dialog")) {
  dialog.querySelector("[data-close]")?.addEventListener("click", () => dialog.close());
  // A tap on the backdrop closes it too.
  dialog.addEventListener("click", (ev) => { if (ev.target === dialog) dialog.close(); });
  if (dialog.dataset.open === "true") dialog.showModal(); // a refused move comes back with its reason
}

// ---------------------------------------------------------------------------
// The section menu (phones): jump to a section; the one on screen is always named in the sticky bar.

const current = document.getElementById("section-current");
const links = [...document.querySelectorAll("#section-list a[data-target]")];
const sections = links.map((a) => document.getElementById(a.dataset.target)).filter(Boolean);

function name(section) {
  return links.find((a) => a.dataset.target === section.id)?.textContent.trim() || "";
}

function mark(section) {
  if (!section || !current) return;
  const text = name(section);
  if (current.textContent !== text) current.textContent = text;
  for (const a of links) {
    if (a.dataset.target === section.id) a.setAttribute("aria-current", "true");
    else a.removeAttribute("aria-current");
  }
  if (page) page.dataset.section = section.id;
}

let chosen = null; // the section one jumped to: named while it is on screen, even where the page cannot scroll it up

function onScreen() {
  // The section whose top is nearest above the reading line, just under the sticky menu.
  const bar = document.getElementById("section-menu");
  const line = (bar && getComputedStyle(bar).display !== "none" ? bar.getBoundingClientRect().bottom : 0) + 24;
  if (chosen) {
    const box = chosen.getBoundingClientRect();
    if (box.bottom > line && box.top < window.innerHeight) return chosen;
    chosen = null;
  }
  let best = sections[0];
  for (const s of sections) {
    const box = s.getBoundingClientRect();
    if (box.height === 0) continue;
    if (box.top <= line) best = s;
  }
  // At the very bottom the last sections may never reach the line: the last one in view wins.
  if (window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 2) {
    const visible = sections.filter((s) => s.getBoundingClientRect().top < window.innerHeight);
    if (visible.length) best = visible[visible.length - 1];
  }
  return best;
}

let ticking = false;
function track() {
  if (ticking) return;
  ticking = true;
  requestAnimationFrame(() => {
    ticking = false;
    mark(onScreen());
  });
}

for (const a of links) {
  a.addEventListener("click", (ev) => {
    const target = document.getElementById(a.dataset.target);
    if (!target) return;
    ev.preventDefault();
    closeAll();
    chosen = target;
    target.scrollIntoView({ block: "start" });
    mark(target);
    const focusable = target.matches("[tabindex]") ? target : target.querySelector("h2, [tabindex]");
    if (focusable && !focusable.hasAttribute("tabindex")) focusable.setAttribute("tabindex", "-1");
    focusable?.focus({ preventScroll: true });
  });
}
window.addEventListener("scroll", track, { passive: true });
window.addEventListener("resize", track);
track();
