import { z } from "zod";
import {
  dotloopLoopDocuments,
  dotloopLoopFolders,
  dotloopLoopTaskLists,
  dotloopLoopTasks,
} from "../../db/schema";
import {
  dotloopEntity,
  dotloopId,
  dotloopTimestamp,
  instantOrNull,
  pathId,
  stampedParents,
  text,
} from "./records";

/**
 * Folder, document and task metadata of a loop (names, times, due dates, completion; never document
 * content). Dotloop announces no change to any of them by webhook, so they are current as of the last run.
 */
const stamped = {
  id: dotloopId,
  name: text,
  created: dotloopTimestamp.nullish(),
  updated: dotloopTimestamp.nullish(),
  ...stampedParents,
};

export const dotloopFolderSchema = z.looseObject(stamped);
export type DotloopFolder = z.infer<typeof dotloopFolderSchema>;

export const folders = dotloopEntity({
  name: "folders",
  listPath: "/profile/{profileId}/loop/{loopId}/folder",
  parent: {
    entity: "loops",
    pathParam: "loopId",
    ancestors: { profileId: "profile_id" },
    stamp: { loopId: "loopId", profileId: "profileId" },
  },
  schema: dotloopFolderSchema,
  coreTable: dotloopLoopFolders,
  columns: (f, source) => ({
    loop_id: pathId(source, "loopId", f),
    profile_id: pathId(source, "profileId", f),
    name: f.name ?? null,
  }),
});

export const dotloopDocumentSchema = z.looseObject(stamped);
export type DotloopDocument = z.infer<typeof dotloopDocumentSchema>;

export const documents = dotloopEntity({
  name: "documents",
  listPath: "/profile/{profileId}/loop/{loopId}/folder/{folderId}/document",
  parent: {
    entity: "folders",
    pathParam: "folderId",
    ancestors: { profileId: "profile_id", loopId: "loop_id" },
    stamp: { folderId: "folderId", loopId: "loopId", profileId: "profileId" },
  },
  schema: dotloopDocumentSchema,
  coreTable: dotloopLoopDocuments,
  columns: (d, source) => ({
    folder_id: pathId(source, "folderId", d),
    loop_id: pathId(source, "loopId", d),
    profile_id: pathId(source, "profileId", d),
    name: d.name ?? null,
  }),
});

/**
 * A loop's task lists. They carry no times, so they are versioned by content, and the loop's own update time
 * is stamped into each: a changed loop then rewrites its task lists, and its tasks are listed again in the
 * same delta (Dotloop announces no task change, and a task list's content alone rarely changes).
 */
export const dotloopTaskListSchema = z.looseObject({
  id: dotloopId,
  name: text,
  ...stampedParents,
  loopUpdated: z.string().nullish(),
});
export type DotloopTaskList = z.infer<typeof dotloopTaskListSchema>;

export const taskLists = dotloopEntity({
  name: "taskLists",
  listPath: "/profile/{profileId}/loop/{loopId}/tasklist",
  versioning: "contentHash",
  parent: {
    entity: "loops",
    pathParam: "loopId",
    ancestors: { profileId: "profile_id", loopUpdated: "source_updated_at" },
    stamp: { loopId: "loopId", profileId: "profileId", loopUpdated: "loopUpdated" },
    deltaParents: "changed",
  },
  schema: dotloopTaskListSchema,
  coreTable: dotloopLoopTaskLists,
  columns: (l, source) => ({
    loop_id: pathId(source, "loopId", l),
    profile_id: pathId(source, "profileId", l),
    name: l.name ?? null,
  }),
});

export const dotloopTaskSchema = z.looseObject({
  id: dotloopId,
  name: text,
  // With an offset (`2016-10-21T00:00:00-04:00`): the instant is kept, the offset is in raw.
  due: dotloopTimestamp.nullish(),
  completed: z.boolean().nullish(),
  ...stampedParents,
});
export type DotloopTask = z.infer<typeof dotloopTaskSchema>;

/** Tasks of a loop's task lists: no times published, versioned by content. */
export const tasks = dotloopEntity({
  name: "tasks",
  listPath: "/profile/{profileId}/loop/{loopId}/tasklist/{taskListId}/task",
  versioning: "contentHash",
  parent: {
    entity: "taskLists",
    pathParam: "taskListId",
    ancestors: { profileId: "profile_id", loopId: "loop_id" },
    stamp: { taskListId: "taskListId", loopId: "loopId", profileId: "profileId" },
    // A task list is rewritten whenever its loop changes (the stamped loopUpdated): its rewrite marks it.
    deltaParents: "changed",
  },
  schema: dotloopTaskSchema,
  coreTable: dotloopLoopTasks,
  columns: (t, source) => ({
    task_list_id: pathId(source, "taskListId", t),
    loop_id: pathId(source, "loopId", t),
    profile_id: pathId(source, "profileId", t),
    name: t.name ?? null,
    due_at: instantOrNull(t.due),
    completed: t.completed ?? null,
  }),
});
