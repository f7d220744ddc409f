// Deterministic mutations (creates, updates, trash, deletes) and the background
// mutation stream. All records touched by one call get the same `updated`
// second: the sim clock truncated to seconds, like FUB's second precision.

import {
  applyUpdate,
  ENTITIES,
  type EntityName,
  generate,
  isEntity,
  isoSec,
  isPersonChild,
  PERSON_CHILDREN,
  type PersonChild,
  type Rec,
  stageName,
  TIMESTAMPS,
  TRASH_STAGE_ID,
} from "./data";
import { HOSTILE_KINDS, type HostileKind } from "./hostile";
import { hash, Rng } from "./prng";
import type { SimRuntime } from "./runtime";
import { protectedStage } from "./store";
import type { Tenant } from "./tenant";
import { dispatch, type EmittedEvent, eventName, type WebhookPayload } from "./webhooks";

export interface MutateRequest {
  entity?: EntityName;
  creates?: number;
  updates?: number;
  deletes?: number;
  /** delete exactly these ids (those that exist), besides `deletes` random ones */
  deleteIds?: number[];
  /** people: move to the Trash stage; deals: status Deleted (both hidden from lists unless included) */
  trash?: number;
  /** deals: status Archived (hidden from lists unless includeArchived=true) */
  archive?: number;
  /** people: out of the Trash into a working stage; deals: status Deleted back to Active */
  restore?: number;
  /** create this many hostile records, cycling through `hostileKinds` (default: every kind) */
  hostile?: number;
  hostileKinds?: HostileKind[];
}

export interface MutateResult {
  entity: EntityName;
  at: string;
  created: number[];
  updated: number[];
  trashed: number[];
  archived: number[];
  restored: number[];
  deleted: number[];
  stageChanged: number[];
  /** records FUB deleted with the deleted people, without webhooks */
  cascaded: Partial<Record<PersonChild, number[]>>;
  /** hostile records created (also in `created`) */
  hostile: { id: number; kind: HostileKind }[];
  webhooks: WebhookPayload[];
}

export class MutationError extends Error {}

export function mutate(rt: SimRuntime, tenant: Tenant, req: MutateRequest): MutateResult {
  const entity = req.entity ?? "people";
  if (!isEntity(entity)) throw new MutationError(`unknown entity ${String(entity)}`);
  if (req.trash && entity !== "people" && entity !== "deals")
    throw new MutationError("trash applies to people and deals only");
  if (req.archive && entity !== "deals") throw new MutationError("archive applies to deals only");
  if (req.restore && entity !== "people" && entity !== "deals")
    throw new MutationError("restore applies to people and deals only");
  const store = tenant.stores[entity];
  const seq = ++tenant.mutationSeq;
  const rng = new Rng(hash(tenant.seed, 0x5eed, seq));
  const r = () => rng.next();
  const sec = Math.floor(rt.now() / 1000);
  const at = isoSec(sec);
  const ts = TIMESTAMPS[entity];
  const touched = new Set<number>();
  const result: MutateResult = {
    entity,
    at,
    created: [],
    updated: [],
    trashed: [],
    archived: [],
    restored: [],
    deleted: [],
    stageChanged: [],
    cascaded: {},
    hostile: [],
    webhooks: [],
  };
  // Stages and groups carry no timestamps: a change shows only in their content.
  const stamp = (rec: Rec): Rec => {
    if (ts) rec[ts.updated] = at;
    if (entity === "people") rec.lastActivity = at;
    return rec;
  };

  const pickIds = (n: number, ok: (id: number) => boolean): number[] => {
    const out: number[] = [];
    const maxId = store.nextId - 1;
    let tries = 0;
    while (out.length < n && maxId > 0 && tries < n * 50 + 200) {
      tries++;
      const id = 1 + rng.int(maxId);
      if (touched.has(id) || !store.exists(id) || !ok(id)) continue;
      touched.add(id);
      out.push(id);
    }
    return out;
  };
  /** A person that exists now: a new call, text or event never points at a deleted person. */
  const pickPerson = (): number | null => {
    const people = tenant.stores.people;
    for (let k = 0; k < 64 && people.nextId > 1; k++) {
      const id = 1 + rng.int(people.nextId - 1);
      if (people.exists(id)) return id;
    }
    return null;
  };
  const create = (id: number): Rec => {
    const rec = generate(tenant.ctx, entity, id, sec, sec, isPersonChild(entity) ? pickPerson() : undefined);
    if (entity === "people") {
      rec.lastActivity = at;
      rec.createdVia = "API";
    }
    return rec;
  };

  for (let k = 0; k < (req.creates ?? 0); k++) {
    const id = store.nextId;
    store.put(create(id), false);
    touched.add(id);
    result.created.push(id);
  }
  const kinds = req.hostileKinds && req.hostileKinds.length > 0 ? req.hostileKinds : HOSTILE_KINDS;
  for (let k = 0; k < (req.hostile ?? 0); k++) {
    const kind = kinds[k % kinds.length] as HostileKind;
    const id = kind === "bigId" ? store.nextBigId++ : store.nextId;
    store.hostile.set(id, kind);
    store.put(create(id), false);
    touched.add(id);
    result.created.push(id);
    result.hostile.push({ id, kind });
  }
  for (const id of pickIds(req.updates ?? 0, (id) => !store.isTrashed(id))) {
    const cur = store.getEntry(id);
    if (!cur) continue;
    const next = stamp(applyUpdate(tenant.ctx, entity, cur.record, r, sec));
    if (entity === "people" && next.stageId !== cur.record.stageId) result.stageChanged.push(id);
    store.put(next, false, cur.archived);
    result.updated.push(id);
  }
  for (const id of pickIds(req.trash ?? 0, (id) => !store.isTrashed(id))) {
    const cur = store.getEntry(id);
    if (!cur) continue;
    if (entity === "people") {
      store.put(stamp({ ...cur.record, stage: stageName(TRASH_STAGE_ID), stageId: TRASH_STAGE_ID }), true);
      result.stageChanged.push(id);
    } else {
      store.put(stamp({ ...cur.record, status: "Deleted" }), true);
    }
    result.trashed.push(id);
  }
  for (const id of pickIds(req.archive ?? 0, (id) => !store.isTrashed(id) && !store.isArchived(id))) {
    const cur = store.getEntry(id);
    if (!cur) continue;
    store.put(stamp({ ...cur.record, status: "Archived" }), false, true);
    result.archived.push(id);
  }
  for (const id of pickIds(req.restore ?? 0, (id) => store.isTrashed(id))) {
    const cur = store.getEntry(id);
    if (!cur) continue;
    if (entity === "people") {
      // Back to the first working stage, as FUB's "restore" puts a person into a pipeline stage again.
      store.put(stamp({ ...cur.record, stage: stageName(1), stageId: 1 }), false);
      result.stageChanged.push(id);
    } else {
      store.put(stamp({ ...cur.record, status: "Active" }), false);
    }
    result.restored.push(id);
  }
  const deletable = (id: number) => entity !== "stages" || !protectedStage(id);
  for (const id of req.deleteIds ?? []) {
    if (touched.has(id) || !store.exists(id) || !deletable(id)) continue;
    touched.add(id);
    store.delete(id);
    result.deleted.push(id);
  }
  for (const id of pickIds(req.deletes ?? 0, deletable)) {
    store.delete(id);
    result.deleted.push(id);
  }
  // FUB deletes a person's calls, texts and events with the person, and says nothing about them.
  if (entity === "people") {
    for (const child of PERSON_CHILDREN) {
      const ids: number[] = [];
      for (const pid of result.deleted) {
        for (const id of tenant.stores[child].childIds(pid)) {
          tenant.stores[child].delete(id);
          ids.push(id);
        }
      }
      if (ids.length > 0) result.cascaded[child] = ids.sort((a, b) => a - b);
    }
  }

  const events: EmittedEvent[] = [];
  const add = (change: "Created" | "Updated" | "Deleted" | null, ids: number[], name?: string) => {
    const event = name ?? (change ? eventName(entity, change) : null);
    if (event && ids.length > 0) events.push({ event, entity, ids: [...ids].sort((a, b) => a - b) });
  };
  add("Created", result.created);
  add("Updated", [...result.updated, ...result.trashed, ...result.archived, ...result.restored]);
  if (entity === "people") add(null, result.stageChanged, "peopleStageUpdated");
  add("Deleted", result.deleted);
  result.webhooks = dispatch(rt, tenant, events);
  return result;
}

export interface StreamConfig {
  /** mutations per second (summed over all kinds) */
  ratePerSec: number;
  /** stop after this many seconds (default: until DELETE) */
  durationSec?: number;
  /** relative weights of the mutation kinds (default creates 0.2, updates 0.7, deletes 0.05, trash 0.05) */
  mix?: { creates?: number; updates?: number; deletes?: number; trash?: number };
  /** entity to mutate (default people), or weights over several */
  entity?: EntityName;
  entities?: Partial<Record<EntityName, number>>;
  /** tick interval (default 1000 ms): all mutations of a tick share one `updated` second */
  tickMs?: number;
}

export class MutationStream {
  readonly startedAt: number;
  ticks = 0;
  applied = { creates: 0, updates: 0, deletes: 0, trash: 0 };
  running = true;
  private budget = 0;
  private readonly rng: Rng;

  constructor(
    private readonly rt: SimRuntime,
    private readonly tenant: Tenant,
    readonly config: StreamConfig,
  ) {
    this.startedAt = rt.now();
    this.rng = new Rng(hash(tenant.seed, 0x57e4, tenant.mutationSeq));
    this.schedule();
  }

  private schedule(): void {
    this.rt.setTimer(() => this.tick(), this.config.tickMs ?? 1000);
  }

  stop(): void {
    this.running = false;
  }

  private tick(): void {
    if (!this.running) return;
    const tickMs = this.config.tickMs ?? 1000;
    this.ticks++;
    this.budget += (this.config.ratePerSec * tickMs) / 1000;
    const n = Math.floor(this.budget);
    this.budget -= n;
    const mix = this.config.mix ?? { creates: 0.2, updates: 0.7, deletes: 0.05, trash: 0.05 };
    const kinds = (["creates", "updates", "deletes", "trash"] as const).filter((k) => (mix[k] ?? 0) > 0);
    const weights: [EntityName, number][] = this.config.entities
      ? (Object.entries(this.config.entities) as [EntityName, number][]).filter(
          ([e, w]) => isEntity(e) && w > 0 && ENTITIES.includes(e),
        )
      : [[this.config.entity ?? "people", 1]];
    const perEntity = new Map<
      EntityName,
      { creates: number; updates: number; deletes: number; trash: number }
    >();
    const drawWeighted = <T>(items: [T, number][]): T => {
      const sum = items.reduce((s, [, w]) => s + w, 0);
      let x = this.rng.next() * sum;
      for (const [v, w] of items) {
        x -= w;
        if (x < 0) return v;
      }
      return (items[items.length - 1] as [T, number])[0];
    };
    for (let k = 0; k < n && kinds.length > 0 && weights.length > 0; k++) {
      const entity = drawWeighted(weights);
      let kind = drawWeighted(kinds.map((x) => [x, mix[x] ?? 0] as [(typeof kinds)[number], number]));
      if (kind === "trash" && entity !== "people" && entity !== "deals") kind = "updates";
      let m = perEntity.get(entity);
      if (!m) {
        m = { creates: 0, updates: 0, deletes: 0, trash: 0 };
        perEntity.set(entity, m);
      }
      m[kind]++;
    }
    for (const [entity, m] of perEntity) {
      const res = mutate(this.rt, this.tenant, { entity, ...m });
      this.applied.creates += res.created.length;
      this.applied.updates += res.updated.length;
      this.applied.deletes += res.deleted.length;
      this.applied.trash += res.trashed.length;
    }
    const elapsedSec = (this.ticks * tickMs) / 1000;
    if (this.config.durationSec !== undefined && elapsedSec >= this.config.durationSec) {
      this.running = false;
      return;
    }
    this.schedule();
  }

  status(): Record<string, unknown> {
    return { running: this.running, ticks: this.ticks, applied: this.applied, config: this.config };
  }
}
