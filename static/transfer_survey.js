// The /transfer survey, a little friendlier with JavaScript (it works the same without):
// the new provider's fields only while "to another IT partner" is chosen, a "Copy link" button for the resume
// link, the first answer to fix focused, and the button pressed saying what it does while the page loads.

const form = document.getElementById("survey-form");

// Step 4: the new provider's fields matter only when the services go to another partner. Hidden, they are
// still sent, and the server ignores them for "directly to us".
function providerFields() {
  const fields = document.getElementById("provider-fields");
  const choices = form?.querySelectorAll("input[name='destination']") ?? [];
  if (!fields || choices.length === 0) return;
  const show = () => {
    const chosen = form.querySelector("input[name='destination']:checked");
    fields.hidden = chosen?.value === "vendor";
  };
  for (const choice of choices) choice.addEventListener("change", show);
  show();
}

// The resume link: one tap selects it all, and "Copy link" copies it.
function resumeLink() {
  const input = document.getElementById("resume-link");
  const button = document.getElementById("resume-copy");
  const status = document.getElementById("resume-copy-status");
  if (!input) return;
  input.addEventListener("focus", () => input.select());
  if (!button) return;
  button.hidden = false;
  let timer = 0;
  const say = (text) => {
    if (status) status.textContent = text;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (status) status.textContent = "";
      button.textContent = "Copy link";
    }, 4000);
  };
  button.addEventListener("click", async () => {
    let copied = false;
    try {
      await navigator.clipboard.writeText(input.value);
      copied = true;
    } catch {
      input.focus();
      input.select();
      try {
        copied = document.execCommand("copy");
      } catch {
        copied = false;
      }
    }
    if (copied) {
      button.textContent = "Copied";
      say("The link is copied: paste it somewhere safe.");
    } else {
      input.focus();
      input.select();
      say("The link is selected: copy it with your device's Copy command.");
    }
  });
}

// A step sent back with answers to fix: the first of them gets the focus.
function focusFirstProblem() {
  const first = form?.querySelector("[aria-invalid='true']");
  if (!first) return;
  const target = first.matches("fieldset") ? first.querySelector("input") : first;
  target?.focus(); // scrolls only when the field is out of sight
}

// app.js marks the form's first busy-labelled button ("Continue") as working whichever button was pressed;
// "Back", "Save…" and "Change" say what they do instead. This runs first (capture on the document).
const BUSY = { back: "Going back…", save: "Saving…", email: "Sending…" };

function busySubmitter() {
  if (!form) return;
  document.addEventListener(
    "submit",
    (ev) => {
      if (ev.target !== form || form.dataset.submitting === "true") return;
      const pressed = ev.submitter;
      const primary = form.querySelector("button[type='submit'][data-busy-label]");
      if (!pressed || !primary || pressed === primary) return;
      primary.dataset.busyWas = primary.dataset.busyLabel;
      primary.dataset.busyLabel = primary.textContent; // stays as it is, only inactive while the page loads
      const label = BUSY[pressed.value];
      if (label) {
        pressed.dataset.label = pressed.textContent;
        pressed.textContent = label;
      }
      pressed.setAttribute("aria-disabled", "true");
    },
    true,
  );
  window.addEventListener("pageshow", (ev) => {
    if (!ev.persisted) return;
    for (const button of form.querySelectorAll("button[aria-disabled='true']")) {
      if (button.dataset.label) button.textContent = button.dataset.label;
      button.removeAttribute("aria-disabled");
    }
    const primary = form.querySelector("button[data-busy-was]");
    if (primary) {
      primary.dataset.busyLabel = primary.dataset.busyWas;
      delete primary.dataset.busyWas;
    }
  });
}

providerFields();
resumeLink();
focusFirstProblem();
busySubmitter();
