// The list's search and filter form: a plain GET form that works without this module. With it, a change to a
// filter applies at once, blank fields stay out of the URL (so it is short to share, and the back button steps
// through the filters one by one), and on a phone the panel starts folded.
import "./list_view.js";

const form = document.getElementById("list-filters");
const panel = document.getElementById("filter-panel");
const PHONE = window.matchMedia("(max-width: 720px)");

function target() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (typeof value === "string" && value.trim()) params.append(name, value.trim());
  }
  const text = params.toString();
  return text ? `/tickets?${text}` : "/tickets";
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
  });
  // The back button must show the filters of the URL it returns to, not what the browser remembers typing.
  window.addEventListener("pageshow", () => form.reset());
  form.reset();
  if (panel && PHONE.matches && !document.getElementById("list-error")) panel.open = false;
}
