// The ticket's widgets that several parts talk to: the next-update promise, tasks, the huddle, guidance.
import { createGuidance } from "./guidance.js";
import { createHuddle } from "./huddle.js";
import { createNextUpdate } from "./nextupdate.js";
import { createTasks } from "./tasks.js";
import { canPin, els, isStaff, me, page, state, ticketId, topic } from "./ticket_core.js";

export const promise = createNextUpdate({
  page, ticketId, input: els.nextUpdateInput, inputDirty: () => state.statusDirty,
});
export const tasks = createTasks({ topic, isStaff, canManage: page.dataset.canTasks === "true" });
export const huddle = createHuddle({ topic, me, isStaff });
export const guidance = createGuidance({ topic, canPin });
