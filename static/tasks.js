// The ticket's tasks: a list with progress for everyone; adding tasks and moving them
// between To do, Doing and Done for Level 2/3 staff and admins. Notes are for staff only.
import { h, timeEl } from "./dom.js";
import { parseInstant } from "./format.js";
import { request } from "./socket.js";

const STATES = [
  ["todo", "To do"],
  ["doing", "Doing"],
  ["done", "Done"],
];
const STATE_LABELS = Object.fromEntries(STATES);

const $ = (id) => document.getElementById(id);

export function createTasks({ topic, isStaff, canManage }) {
  const els = {
    list: $("tasks"),
    progress: $("tasks-progress"),
    bar: $("tasks-bar"),
    empty: $("tasks-empty"),
    error: $("tasks-error"),
    toggle: $("task-add-toggle"),
    form: $("task-form"),
    title: $("task-title"),
    assignee: $("task-assignee"),
    due: $("task-due"),
    note: $("task-note"),
    save: $("task-save"),
    cancel: $("task-cancel"),
    formError: $("task-form-error"),
  };
  /** id -> task, in the order they were created */
  const tasks = new Map();
  let progress = null;
  /** task id -> state asked for and not yet confirmed */
  const moving = new Map();

  function counted() {
    if (progress && Number.isFinite(Number(progress.total))) {
      return { done: Number(progress.done) || 0, total: Number(progress.total) };
    }
    const all = [...tasks.values()];
    return { done: all.filter((t) => t.state === "done").length, total: all.length };
  }

  function taskItem(task) {
    const state = moving.get(String(task.id)) || task.state || "todo";
    const due = parseInstant(task.due_at);
    const overdue = due && due < new Date() && state !== "done";
    const title = String(task.title || "");
    const li = h("li", {
      className: `task task-${state}${overdue ? " is-overdue" : ""}`,
      dataset: { taskId: String(task.id), state },
    },
    h("span", { className: "task-icon", "aria-hidden": "true" }),
    h("div", { className: "task-main" },
      h("p", { className: "task-title" }, title),
      h("p", { className: "task-meta" },
        h("span", { className: "task-state-label" }, STATE_LABELS[state] || state),
        h("span", { className: "task-assignee" }, task.assignee?.name || "Nobody yet"),
        due ? h("span", { className: "task-due" }, overdue ? "was due " : "due ", timeEl(task.due_at, "task-time")) : null),
      isStaff && task.note ? h("p", { className: "task-note" }, h("span", { className: "task-note-label" }, "Team note: "), String(task.note)) : null,
      canManage ? stateButtons(task, state, title) : null),
    );
    return li;
  }

  function stateButtons(task, current, title) {
    const group = h("div", { className: "task-states", role: "group", "aria-label": `Move “${title}”` });
    for (const [value, label] of STATES) {
      group.append(h("button", {
        type: "button",
        className: "task-state-button",
        "aria-pressed": value === current ? "true" : "false",
        dataset: { taskId: String(task.id), state: value },
      }, label));
    }
    return group;
  }

  function render() {
    // Re-rendering must not take the focus away from a keyboard or screen reader user.
    const focused = document.activeElement?.closest?.("button.task-state-button");
    const again = focused && els.list.contains(focused)
      ? `button.task-state-button[data-task-id="${CSS.escape(focused.dataset.taskId)}"][data-state="${CSS.escape(focused.dataset.state)}"]`
      : null;
    const items = [...tasks.values()].map(taskItem);
    els.list.replaceChildren(...items);
    if (again) els.list.querySelector(again)?.focus();
    const { done, total } = counted();
    els.empty.hidden = total > 0;
    els.progress.textContent = total ? `${done} of ${total} done` : "No tasks yet";
    els.progress.dataset.done = String(done);
    els.progress.dataset.total = String(total);
    els.bar.hidden = total === 0;
    els.bar.max = Math.max(total, 1);
    els.bar.value = done;
  }

  function put(task) {
    if (!task || task.id === undefined || task.id === null) return;
    const id = String(task.id);
    const old = tasks.get(id) || {};
    // A client's copy has no note; keep nothing it was not sent.
    tasks.set(id, { ...old, ...task });
  }

  function showError(error) {
    els.error.textContent = error?.message || "That did not work. Please try again.";
    els.error.hidden = false;
  }

  // ---- from the server

  function applyState(state) {
    if (!state || !Array.isArray(state.tasks)) return;
    tasks.clear();
    for (const t of state.tasks) put(t);
    progress = state.progress && typeof state.progress === "object" ? state.progress : null;
    render();
  }

  function onEvent(ev) {
    const data = ev.data && typeof ev.data === "object" ? ev.data : {};
    if (data.task) {
      put(data.task);
      const id = String(data.task.id);
      if (moving.get(id) === data.task.state) moving.delete(id);
    }
    if (data.progress && typeof data.progress === "object") progress = data.progress;
    render();
  }

  // ---- staff: moving a task

  if (canManage) {
    els.list.addEventListener("click", async (ev) => {
      const button = ev.target.closest("button.task-state-button");
      if (!button || button.getAttribute("aria-pressed") === "true") return;
      const id = button.dataset.taskId;
      const target = button.dataset.state;
      els.error.hidden = true;
      moving.set(id, target);
      render();
      const reply = await request({ type: "task", topic, task_id: Number(id), state: target });
      if (!reply.ok) {
        moving.delete(id);
        render();
        showError(reply.error);
      } else if (tasks.get(id)?.state === target) {
        moving.delete(id);
        render();
      }
    });
  }

  // ---- staff: adding a task

  function openForm(open) {
    if (!els.form) return;
    els.form.hidden = !open;
    els.toggle.hidden = open;
    els.toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) els.title.focus();
    else els.toggle.focus();
  }

  function formFailed(message) {
    els.formError.textContent = message;
    els.formError.hidden = false;
  }

  if (els.form) {
    els.toggle.addEventListener("click", () => openForm(true));
    els.cancel.addEventListener("click", () => {
      els.formError.hidden = true;
      openForm(false);
    });
    els.form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (els.save.getAttribute("aria-disabled") === "true") return;
      const title = els.title.value.trim();
      if (!title) {
        formFailed("Give the task a title.");
        els.title.focus();
        return;
      }
      const frame = { type: "task", topic, title };
      frame.assignee_id = els.assignee.value ? Number(els.assignee.value) : null;
      if (els.due.value) {
        const at = new Date(els.due.value);
        if (Number.isNaN(at.getTime())) {
          formFailed("That due date and time is not complete.");
          return;
        }
        frame.due_at = at.toISOString();
      }
      if (els.note.value.trim()) frame.note = els.note.value.trim();
      els.formError.hidden = true;
      els.save.setAttribute("aria-disabled", "true");
      els.save.textContent = "Adding…";
      const reply = await request(frame);
      els.save.removeAttribute("aria-disabled");
      els.save.textContent = "Add task";
      if (!reply.ok) {
        formFailed(reply.error?.message || "The task could not be added.");
        return;
      }
      els.form.reset();
      openForm(false);
    });
  }

  // Due times drift into "was due" as time passes.
  setInterval(() => { if (tasks.size) render(); }, 60_000);

  render();
  return { applyState, onEvent };
}
