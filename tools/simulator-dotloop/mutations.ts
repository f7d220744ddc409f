// Changes to a user's data, as Dotloop users make them: loops created, updated, archived
// (loops are never deleted) and merged; contacts and participants created, updated and
// deleted; profiles updated. Deterministic per (seed, mutation number); each change stamps
// `updated` with the sim clock and emits its published webhook event.

import { hash, Rng } from "../simulator/prng";
import { isoSec, type LoopRec, Maker, recountTasks, STATUSES } from "./data";
import type { User } from "./user";
import type { Emitted } from "./webhooks";

export interface MutateRequest {
  loops?: {
    /** profile for creates (default: the first INDIVIDUAL profile) */
    profileId?: number;
    creates?: number;
    updates?: number;
    updateIds?: number[];
    archives?: number;
    archiveIds?: number[];
    merges?: number;
    /** explicit merges: loop `fromId` disappears into `toId` (same profile) */
    mergePairs?: { fromId: number; toId: number }[];
  };
  contacts?: {
    creates?: number;
    updates?: number;
    updateIds?: number[];
    deletes?: number;
    deleteIds?: number[];
  };
  participants?: {
    creates?: number;
    updates?: number;
    deletes?: number;
    /** explicit participant ids to delete */
    deleteIds?: number[];
  };
  /** updates: PROFILE_UPDATED; removeAccessIds: the user loses these profiles (and their loops) */
  profiles?: { updates?: number; removeAccessIds?: number[] };
  /**
   * toggles: tasks whose completion flips. Dotloop publishes no task event; the loop's task counts change, so
   * the loop's `updated` moves (our choice: the published loop carries the counts, so it is a loop change).
   */
  tasks?: { toggles?: number };
}

export interface MutateResult {
  at: string;
  loops: {
    created: number[];
    updated: number[];
    archived: number[];
    merged: { fromId: number; toId: number }[];
  };
  contacts: { created: number[]; updated: number[]; deleted: number[] };
  participants: {
    created: { id: number; loopId: number }[];
    updated: { id: number; loopId: number }[];
    deleted: { id: number; loopId: number }[];
  };
  profiles: { updated: number[]; accessRemoved: number[] };
  tasks: { toggled: { id: number; loopId: number }[] };
  events: Emitted[];
}

export class MutationError extends Error {}

function pickIds<T>(rng: Rng, pool: T[], n: number): T[] {
  const copy = [...pool];
  rng.shuffle(copy);
  return copy.slice(0, Math.min(n, copy.length));
}

export function mutate(user: User, now: number, req: MutateRequest): MutateResult {
  const seq = ++user.mutationSeq;
  const rng = new Rng(hash(user.seed, 0x317a, seq));
  const maker = new Maker(user.seed, user.data.ids, user.config.hostile ?? null, seq);
  const at = isoSec(now);
  const d = user.data;
  const events: Emitted[] = [];
  const res: MutateResult = {
    at,
    loops: { created: [], updated: [], archived: [], merged: [] },
    contacts: { created: [], updated: [], deleted: [] },
    participants: { created: [], updated: [], deleted: [] },
    profiles: { updated: [], accessRemoved: [] },
    tasks: { toggled: [] },
    events,
  };
  const individual = [...d.profiles.values()].filter((p) => p.type === "INDIVIDUAL");
  const loopEvent = (eventType: string, l: LoopRec) =>
    events.push({
      eventType,
      profileId: l.loop.profileId,
      event: { id: l.loop.id, profileId: l.loop.profileId },
    });

  const L = req.loops ?? {};
  if (L.profileId !== undefined && !individual.some((p) => p.id === L.profileId)) {
    throw new MutationError(`no INDIVIDUAL profile ${L.profileId}`);
  }
  for (let i = 0; i < (L.creates ?? 0); i++) {
    const pid = L.profileId ?? (individual[0]?.id as number);
    if (pid === undefined) throw new MutationError("no INDIVIDUAL profile");
    const l = maker.loop(pid, now, now);
    d.loops.set(l.loop.id, l);
    res.loops.created.push(l.loop.id);
    loopEvent("LOOP_CREATED", l);
  }
  const live = () => [...d.loops.values()].filter((l) => !res.loops.created.includes(l.loop.id));
  const updates = [
    ...(L.updateIds ?? []).map((id) => {
      const l = d.loops.get(id);
      if (!l) throw new MutationError(`no loop ${id}`);
      return l;
    }),
    ...pickIds(rng, live(), L.updates ?? 0),
  ];
  for (const l of updates) {
    const statuses = STATUSES[l.loop.transactionType] ?? ["NEW"];
    const k = rng.int(3);
    if (k === 0) l.loop.name = `${l.loop.name.split(" (")[0]} (rev ${seq})`;
    else if (k === 1)
      l.loop.status =
        statuses[(statuses.indexOf(l.loop.status) + 1) % Math.max(1, statuses.length - 1)] ?? l.loop.status;
    else {
      const fin = l.details.Financials ?? {};
      fin["Purchase/Sale Price"] = String(Number(fin["Purchase/Sale Price"] ?? "100000") + 5000);
      l.details.Financials = fin;
    }
    l.loop.updated = at;
    res.loops.updated.push(l.loop.id);
    loopEvent("LOOP_UPDATED", l);
  }
  const archives = [
    ...(L.archiveIds ?? []).map((id) => {
      const l = d.loops.get(id);
      if (!l) throw new MutationError(`no loop ${id}`);
      return l;
    }),
    ...pickIds(
      rng,
      live().filter((l) => l.loop.status !== "ARCHIVED"),
      L.archives ?? 0,
    ),
  ];
  for (const l of archives) {
    l.loop.status = "ARCHIVED";
    l.loop.updated = at;
    res.loops.archived.push(l.loop.id);
    loopEvent("LOOP_UPDATED", l);
  }
  const pairs = [...(L.mergePairs ?? [])];
  for (let i = 0; i < (L.merges ?? 0); i++) {
    const pool = live().filter((l) => !pairs.some((p) => p.fromId === l.loop.id || p.toId === l.loop.id));
    const from = pool[rng.int(pool.length)];
    const to = from && pool.find((l) => l !== from && l.loop.profileId === from.loop.profileId);
    if (from && to) pairs.push({ fromId: from.loop.id, toId: to.loop.id });
  }
  for (const { fromId, toId } of pairs) {
    const from = d.loops.get(fromId);
    const to = d.loops.get(toId);
    if (!from || !to || fromId === toId || from.loop.profileId !== to.loop.profileId) {
      throw new MutationError(`cannot merge loop ${fromId} into ${toId}`);
    }
    // Choice: a merge moves the merged loop's participants, folders and task lists to the survivor.
    for (const [pid, p] of from.participants) to.participants.set(pid, p);
    to.folders.push(...from.folders);
    to.tasklists.push(...from.tasklists);
    to.activities.push({ date: at, message: `Loop ${fromId} merged into this loop` });
    recountTasks(to);
    to.loop.updated = at;
    d.loops.delete(fromId);
    user.merged.set(fromId, { toId, profileId: to.loop.profileId });
    res.loops.merged.push({ fromId, toId });
    events.push({
      eventType: "LOOP_MERGED",
      profileId: to.loop.profileId,
      event: { id: toId, profileId: to.loop.profileId, fromId, toId },
    });
  }

  const allTasks = [...d.loops.values()].flatMap((l) =>
    l.tasklists.flatMap((t) => t.tasks.map((task) => ({ task, l }))),
  );
  for (const { task, l } of pickIds(rng, allTasks, req.tasks?.toggles ?? 0)) {
    task.completed = !task.completed;
    recountTasks(l);
    l.loop.updated = at;
    res.tasks.toggled.push({ id: task.id, loopId: l.loop.id });
  }

  const P = req.participants ?? {};
  const loopsNow = [...d.loops.values()];
  const partEvent = (eventType: string, l: LoopRec, id: number) =>
    events.push({
      eventType,
      profileId: l.loop.profileId,
      event: { id, loopId: l.loop.id, profileId: l.loop.profileId },
    });
  for (let i = 0; i < (P.creates ?? 0) && loopsNow.length > 0; i++) {
    const l = loopsNow[rng.int(loopsNow.length)] as LoopRec;
    const p = maker.participant();
    l.participants.set(p.id, p);
    l.loop.updated = at;
    res.participants.created.push({ id: p.id, loopId: l.loop.id });
    partEvent("LOOP_PARTICIPANT_CREATED", l, p.id);
  }
  const allParts = () => loopsNow.flatMap((l) => [...l.participants.keys()].map((id) => ({ id, l })));
  for (const { id, l } of pickIds(rng, allParts(), P.updates ?? 0)) {
    const p = l.participants.get(id);
    if (!p) continue;
    p.email = `updated.${seq}.${p.email.replace(/^updated\.\d+\./, "")}`;
    l.loop.updated = at;
    res.participants.updated.push({ id, loopId: l.loop.id });
    partEvent("LOOP_PARTICIPANT_UPDATED", l, id);
  }
  const partDeletes = [
    ...(P.deleteIds ?? []).map((id) => {
      const hit = allParts().find((x) => x.id === id);
      if (!hit) throw new MutationError(`no participant ${id}`);
      return hit;
    }),
    ...pickIds(rng, allParts(), P.deletes ?? 0),
  ];
  for (const { id, l } of partDeletes) {
    if (!l.participants.delete(id)) continue;
    l.loop.updated = at;
    user.deletedParticipants.set(id, l.loop.id);
    res.participants.deleted.push({ id, loopId: l.loop.id });
    partEvent("LOOP_PARTICIPANT_DELETED", l, id);
  }

  const C = req.contacts ?? {};
  for (let i = 0; i < (C.creates ?? 0); i++) {
    const c = maker.contact(now);
    d.contacts.set(c.id, c);
    res.contacts.created.push(c.id);
    events.push({ eventType: "CONTACT_CREATED", event: { id: c.id } });
  }
  const oldContacts = () => [...d.contacts.keys()].filter((id) => !res.contacts.created.includes(id));
  for (const id of [...(C.updateIds ?? []), ...pickIds(rng, oldContacts(), C.updates ?? 0)]) {
    const c = d.contacts.get(id);
    if (!c) throw new MutationError(`no contact ${id}`);
    c.office = `(555) 200-${String(seq % 10000).padStart(4, "0")}`;
    c.updated = at;
    res.contacts.updated.push(id);
    events.push({ eventType: "CONTACT_UPDATED", event: { id } });
  }
  for (const id of [...(C.deleteIds ?? []), ...pickIds(rng, oldContacts(), C.deletes ?? 0)]) {
    if (!d.contacts.delete(id)) throw new MutationError(`no contact ${id}`);
    user.deletedContacts.add(id);
    res.contacts.deleted.push(id);
    events.push({ eventType: "CONTACT_DELETED", event: { id } });
  }

  for (const p of pickIds(rng, individual, req.profiles?.updates ?? 0)) {
    p.phone = `(555) 300-${String(seq % 10000).padStart(4, "0")}`;
    res.profiles.updated.push(p.id);
    events.push({ eventType: "PROFILE_UPDATED", profileId: p.id, event: { id: p.id } });
  }
  for (const pid of req.profiles?.removeAccessIds ?? []) {
    const p = d.profiles.get(pid);
    if (!p) throw new MutationError(`no profile ${pid}`);
    if (pid === d.account.defaultProfileId) throw new MutationError("the default profile cannot be removed");
    d.profiles.delete(pid);
    for (const l of [...d.loops.values()]) if (l.loop.profileId === pid) d.loops.delete(l.loop.id);
    d.templates.delete(pid);
    user.lostProfiles.add(pid);
    res.profiles.accessRemoved.push(pid);
    events.push({
      eventType: "USER_REMOVED_FROM_PROFILE",
      profileId: pid,
      event: { id: pid, userId: user.id },
    });
  }
  return res;
}
