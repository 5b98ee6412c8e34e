// Files in the conversation: picked in the composer, sent over HTTP with the text (multipart,
// with upload progress), shown in messages as download links with their name and size.
import { fileSize, h } from "./dom.js";
import { csrfToken } from "./socket.js";

const $ = (id) => document.getElementById(id);

/** The links under a message that carries files. */
export function attachmentList(attachments) {
  if (!Array.isArray(attachments) || !attachments.length) return null;
  return h("ul", { className: "attachments", "aria-label": "Attached files" },
    attachments.map((a) => {
      const url = typeof a.url === "string" && a.url.startsWith("/") && !a.url.startsWith("//") ? a.url : null;
      const name = String(a.name || "file");
      const size = fileSize(a.size);
      return h("li", { className: "attachment", dataset: { attachmentId: String(a.id ?? "") } },
        h("span", { className: "attachment-icon", "aria-hidden": "true" }),
        url
          ? h("a", { href: url, download: name, className: "attachment-link" },
            h("span", { className: "attachment-name" }, name),
            size ? h("span", { className: "attachment-size" }, size) : null)
          : h("span", { className: "attachment-link" }, h("span", { className: "attachment-name" }, name)));
    }));
}

function refusal(error, files, maxBytes, kept = "Nothing was sent; your text is still here.") {
  const names = files.length === 1 ? `“${files[0].name}”` : "One of the files";
  switch (error.code) {
    case "refused_file":
      return `${names} was refused: programs, scripts and documents with macros cannot be sent, whatever their name. ${kept}`;
    case "too_large":
      return `${names} is too large: each file can be up to ${fileSize(maxBytes)}. ${kept}`;
    case "unauthorized":
      return `Your session has ended – log in again to send files. ${kept}`;
    case "network":
      return `The upload did not get through – check the connection and send again. ${kept}`;
    default:
      return `${error.message || "The files could not be sent."} ${kept}`;
  }
}

export function createAttachments({ ticketId, maxBytes, onChange }) {
  const els = {
    input: $("attach-input"),
    button: $("attach-button"),
    list: $("attach-list"),
    upload: $("upload"),
    bar: $("upload-bar"),
    text: $("upload-text"),
  };
  let chosen = [];
  let busy = false;
  let doneTimer = 0;

  function render() {
    els.list.hidden = chosen.length === 0;
    els.list.replaceChildren(...chosen.map((file, i) => {
      const remove = h("button", {
        type: "button",
        className: "button button-quiet attach-remove",
        "aria-label": `Remove ${file.name}`,
        dataset: { index: String(i) },
      }, "×");
      return h("li", { className: "attach-item" },
        h("span", { className: "attachment-icon", "aria-hidden": "true" }),
        h("span", { className: "attach-name" }, file.name),
        h("span", { className: "attach-size" }, fileSize(file.size)),
        remove);
    }));
    els.button.textContent = chosen.length ? "Add more files" : "Attach files";
    onChange?.();
  }

  els.button.addEventListener("click", () => {
    if (!busy) els.input.click();
  });
  els.input.addEventListener("change", () => {
    const tooBig = [];
    for (const file of els.input.files) {
      if (maxBytes && file.size > maxBytes) tooBig.push(file);
      else if (!chosen.some((f) => f.name === file.name && f.size === file.size)) chosen.push(file);
    }
    els.input.value = "";
    render();
    if (tooBig.length) {
      onChange?.({
        code: "too_large",
        message: refusal({ code: "too_large" }, tooBig, maxBytes, "It was not added."),
      });
    }
  });
  els.list.addEventListener("click", (ev) => {
    const remove = ev.target.closest("button.attach-remove");
    if (!remove || busy) return;
    chosen.splice(Number(remove.dataset.index), 1);
    render();
    els.button.focus();
  });

  function progress(text, fraction) {
    clearTimeout(doneTimer);
    els.upload.hidden = false;
    els.text.textContent = text;
    if (fraction === null) els.bar.removeAttribute("value");
    else els.bar.value = Math.round(fraction * 100);
  }

  /** Send the chosen files with the text; resolves {ok, seq} or {ok: false, error: {code, message}}. */
  function upload({ body, visibility, replyTo }) {
    const files = [...chosen];
    const form = new FormData();
    for (const file of files) form.append("file", file, file.name);
    if (body) form.append("body", body);
    form.append("visibility", visibility || "public");
    if (replyTo) form.append("reply_to", String(replyTo));
    const label = files.length === 1 ? files[0].name : `${files.length} files`;
    busy = true;
    els.upload.dataset.state = "uploading";
    progress(`Uploading ${label}…`, 0);
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `/api/tickets/${encodeURIComponent(ticketId)}/attachments`);
      xhr.setRequestHeader("X-CSRF-Token", csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      xhr.responseType = "json";
      xhr.upload.addEventListener("progress", (ev) => {
        if (!ev.lengthComputable) return;
        const fraction = ev.loaded / ev.total;
        progress(`Uploading ${label}… ${Math.round(fraction * 100)} %`, fraction);
      });
      const finish = (result) => {
        busy = false;
        if (result.ok) {
          chosen = [];
          render();
          els.upload.dataset.state = "done";
          progress(`Sent ${label}.`, 1);
          doneTimer = setTimeout(() => { els.upload.hidden = true; }, 4000);
        } else {
          els.upload.hidden = true;
          els.upload.dataset.state = "failed";
          result.error = { ...result.error, message: refusal(result.error, files, maxBytes) };
        }
        resolve(result);
      };
      xhr.addEventListener("load", () => {
        const answer = xhr.response && typeof xhr.response === "object" ? xhr.response : {};
        if (xhr.status === 201 || xhr.status === 200) {
          finish({ ok: true, seq: answer.seq, attachments: answer.attachments });
          return;
        }
        const error = answer.error && typeof answer.error === "object" ? answer.error : {};
        const code = error.code || { 401: "unauthorized", 413: "too_large", 415: "refused_file" }[xhr.status] || "error";
        finish({ ok: false, error: { code, message: error.message || "" } });
      });
      xhr.addEventListener("error", () => finish({ ok: false, error: { code: "network" } }));
      xhr.addEventListener("abort", () => finish({ ok: false, error: { code: "network" } }));
      xhr.send(form);
    });
  }

  render();
  return {
    get hasFiles() { return chosen.length > 0; },
    get busy() { return busy; },
    upload,
  };
}
