// The cancellation form: ticking "waive the 30 days' notice" shows at once what that does
// (the form is a plain GET, which also works without this script).
const form = document.getElementById("waive-form");
const box = document.getElementById("waive");

if (form && box) {
  document.getElementById("waive-apply")?.setAttribute("hidden", "");
  box.addEventListener("change", () => form.requestSubmit());
}
