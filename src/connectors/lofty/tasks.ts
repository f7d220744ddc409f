import { z } from "zod";
import { loftyTasks } from "../../db/schema";
import { idText, loftyEntity, loftyId, loftyRef, loftyTime, text } from "./records";
import { instantOf } from "./time";

/**
 * A v2 task. Lofty publishes the endpoint (`GET /v2.0/tasks`) but not the item's shape: only `id` is required,
 * and the fields read are the ones a task list shows, with v2's epoch-millisecond times (`-1` unset). A
 * `finished` flag may come as a boolean or as a status string; both are read.
 */
export const loftyTaskSchema = z.looseObject({
  id: loftyId,
  leadId: loftyRef,
  assignedUserId: loftyRef,
  title: text,
  content: text,
  type: text,
  dueTime: loftyTime,
  finished: z.boolean().nullish(),
  status: text,
  createTime: loftyTime,
  updateTime: loftyTime,
});
export type LoftyTask = z.infer<typeof loftyTaskSchema>;

const finishedOf = (t: LoftyTask): boolean | null => {
  if (typeof t.finished === "boolean") return t.finished;
  if (typeof t.status === "string") return /^(finished|done|completed)$/i.test(t.status);
  return null;
};

/** Tasks (v2): one list for the team, scroll-paged, no updated filter; a trashed lead's go with it. */
export const tasks = loftyEntity({
  name: "tasks",
  listPath: "/v2.0/tasks",
  collectionKey: "tasks",
  idField: "id",
  schema: loftyTaskSchema,
  coreTable: loftyTasks,
  created: (t) => t.createTime,
  updated: (t) => t.updateTime,
  columns: (t) => ({
    lead_id: idText(t.leadId),
    assigned_user_id: idText(t.assignedUserId),
    title: t.title ?? t.content ?? null,
    task_type: t.type ?? null,
    due_at: instantOf(t.dueTime),
    finished: finishedOf(t),
  }),
});
