// The list's search and filter form: a plain GET form that works without this module. With it, a change to a
// filter applies at once, blank fields stay out of the URL (so it is short to share, and the back button steps
// through the filters one by one), and on a phone the panel starts folded. The days wait for "Apply filters"
// (or Enter), like the search words: a date typed digit by digit is a valid day many times before it is the
// one meant.
import "./list_view.js";

const form = document.getElementById("list-filters");
const panel = document.getElementById("filter-panel");
const PHONE = window.matchMedia("(max-width: 720px)");
const applyButton = document.getElementById("filter-submit");

function target() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (typeof value === "string" && value.trim()) params.append(name, value.trim());
  }
  const text = params.toString();
  return text ? `/tickets?${text}` : "/tickets";
}

/** Days changed but not applied yet: the Apply button stands out. */
function pending(on) {
  applyButton?.classList.toggle("button-primary", on);
}

function apply() {
  const url = target();
  if (url !== location.pathname + location.search) location.assign(url);
}

if (form) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  // Typing in the search box waits for Enter; a choice applies as soon as it is made.
  form.addEventListener("change", (event) => {
    if (event.target instanceof HTMLSelectElement || event.target.type === "checkbox") apply();
    else if (event.target.type === "date") pending(true);
  });
  // The back button must show the filters of the URL it returns to, not what the browser remembers typing.
  window.addEventListener("pageshow", () => {
    form.reset();
    pending(false);
  });
  form.reset();
  if (panel && PHONE.matches && !document.getElementById("list-error")) panel.open = false;
}
