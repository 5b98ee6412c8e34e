// Who is on the ticket's team: the assignees in the header (staff change them), the engineers
// in the huddle (staff invite more), and the words for the conversation's system lines.
import { h, joinNames, personChip, personName, roleBadge } from "./dom.js";
import { request } from "./socket.js";

const $ = (id) => document.getElementById(id);

export function createHuddle({ topic, me, isStaff }) {
  const els = {
    assignees: $("assignees"),
    toggle: $("assign-toggle"),
    form: $("assign-form"),
    options: $("assign-options"),
    save: $("assign-save"),
    cancel: $("assign-cancel"),
    error: $("assign-error"),
    huddle: $("huddle"),
    members: $("huddle-members"),
    inviteForm: $("invite-form"),
    inviteUser: $("invite-user"),
    inviteMessage: $("invite-message"),
    inviteSend: $("invite-send"),
    inviteError: $("invite-error"),
    inviteNote: $("invite-note"),
  };
  let assignees = [];
  let members = [];
  /** user id -> the person as last seen, to name the removed in "removed Sam" lines */
  const people = new Map();

  function learn(list) {
    for (const p of list) if (p && p.id !== undefined) people.set(String(p.id), p);
  }

  function renderAssignees() {
    const names = assignees.map((a) => (String(a.id) === me.id ? `${a.name} (you)` : a.name));
    if (names.length) els.assignees.textContent = names.join(", ");
    else els.assignees.replaceChildren(h("span", { className: "muted" }, "Nobody yet"));
    els.assignees.dataset.ids = assignees.map((a) => a.id).join(",");
    if (els.form && els.form.hidden) syncChecks();
  }

  function syncChecks() {
    const ids = new Set(assignees.map((a) => String(a.id)));
    for (const box of els.options.querySelectorAll("input[type=checkbox]")) box.checked = ids.has(box.value);
  }

  function renderMembers() {
    if (!els.members) return;
    els.huddle.hidden = members.length === 0;
    els.members.replaceChildren(...members.map((m) => h("li", { className: "huddle-member", dataset: { userId: String(m.id) } },
      personChip(m),
      h("span", { className: "huddle-name" }, m.name || "Someone", String(m.id) === me.id ? h("span", { className: "muted" }, " (you)") : null),
      roleBadge(m.role, m.tier))));
    if (els.inviteUser) {
      // Those already in the huddle cannot be invited again.
      const inside = new Set(members.map((m) => String(m.id)));
      for (const option of els.inviteUser.options) option.disabled = inside.has(option.value);
      if (els.inviteUser.selectedOptions[0]?.disabled) {
        const free = [...els.inviteUser.options].find((o) => !o.disabled);
        if (free) els.inviteUser.value = free.value;
      }
    }
  }

  function applyState(state) {
    if (!state) return;
    if (Array.isArray(state.assignees)) {
      assignees = state.assignees;
      learn(assignees);
      renderAssignees();
    }
    if (Array.isArray(state.members)) {
      members = state.members;
      learn(members);
      renderMembers();
    }
  }

  // ---- events, and their lines in the conversation

  function onAssignment(ev) {
    const data = ev.data || {};
    if (Array.isArray(data.assignees)) {
      assignees = data.assignees;
      learn(assignees);
      renderAssignees();
    }
  }

  function onMember(ev) {
    const user = ev.data?.user;
    if (!user) return;
    learn([user]);
    if (!members.some((m) => String(m.id) === String(user.id))) {
      members = [...members, user];
      renderMembers();
    }
  }

  function nameOf(id) {
    const p = people.get(String(id));
    if (String(id) === me.id) return "you";
    return p ? p.name : "an engineer";
  }

  /** "Dana Novak assigned Sam Rivera", "… and removed Lee Park", "… removed everyone". */
  function assignmentText(ev, actorName) {
    const data = ev.data || {};
    const added = (data.added || []).map(nameOf);
    const removed = (data.removed || []).map(nameOf);
    const parts = [];
    if (added.length) parts.push(`assigned ${joinNames(added)}`);
    if (removed.length) parts.push(`removed ${joinNames(removed)} from the assignees`);
    if (!parts.length) {
      const now = (data.assignees || []).map((a) => a.name);
      return now.length ? `${actorName} assigned the ticket to ${joinNames(now)}.` : `${actorName} left the ticket unassigned.`;
    }
    return `${actorName} ${parts.join(" and ")}.`;
  }

  /** "Sam Rivera (Level 3) joined the huddle – invited by Dana Novak", with the staff's message. */
  function memberText(ev, actorName) {
    const data = ev.data || {};
    const who = String(data.user?.id) === me.id ? "You" : personName(data.user);
    const verb = isStaff ? "joined the huddle" : "joined the team on your ticket";
    return `${who} ${verb}${actorName ? ` – invited by ${actorName}` : ""}.`;
  }

  // ---- staff: changing the assignees

  function openForm(open) {
    if (!els.form) return;
    if (open) syncChecks();
    els.form.hidden = !open;
    els.toggle.setAttribute("aria-expanded", open ? "true" : "false");
    els.toggle.textContent = open ? "Close" : "Change";
    els.error.hidden = true;
    if (open) els.options.querySelector("input")?.focus();
  }

  if (els.form) {
    els.toggle.addEventListener("click", () => openForm(els.form.hidden));
    els.cancel.addEventListener("click", () => { openForm(false); els.toggle.focus(); });
    els.form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (els.save.getAttribute("aria-disabled") === "true") return;
      const ids = [...els.options.querySelectorAll("input[type=checkbox]:checked")].map((b) => Number(b.value));
      els.error.hidden = true;
      els.save.setAttribute("aria-disabled", "true");
      els.save.textContent = "Saving…";
      const reply = await request({ type: "assign", topic, assignees: ids });
      els.save.removeAttribute("aria-disabled");
      els.save.textContent = "Save assignees";
      if (!reply.ok) {
        els.error.textContent = reply.error?.message || "The assignees could not be changed.";
        els.error.hidden = false;
        return;
      }
      openForm(false);
      els.toggle.focus();
    });
  }

  // ---- staff: inviting an engineer

  if (els.inviteForm) {
    els.inviteForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (els.inviteSend.getAttribute("aria-disabled") === "true") return;
      const userId = els.inviteUser.value;
      if (!userId) {
        els.inviteError.textContent = "Choose an engineer to invite.";
        els.inviteError.hidden = false;
        return;
      }
      const frame = { type: "invite", topic, user_id: Number(userId) };
      const message = els.inviteMessage.value.trim();
      if (message) frame.message = message;
      els.inviteError.hidden = true;
      els.inviteNote.textContent = "";
      els.inviteSend.setAttribute("aria-disabled", "true");
      els.inviteSend.textContent = "Inviting…";
      const reply = await request(frame);
      els.inviteSend.removeAttribute("aria-disabled");
      els.inviteSend.textContent = "Invite to the huddle";
      if (!reply.ok) {
        els.inviteError.textContent = reply.error?.code === "conflict"
          ? "That engineer is already in the huddle."
          : reply.error?.message || "The invitation could not be sent.";
        els.inviteError.hidden = false;
        return;
      }
      const name = els.inviteUser.selectedOptions[0]?.textContent.split(" · ")[0] || "They";
      els.inviteMessage.value = "";
      els.inviteNote.textContent = `Invited – ${name} has been told.`;
      setTimeout(() => { els.inviteNote.textContent = ""; }, 6000);
    });
  }

  return { applyState, onAssignment, onMember, assignmentText, memberText, learn };
}
