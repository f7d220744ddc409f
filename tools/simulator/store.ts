// One entity's dataset for one tenant: the lazily generated base set plus a small
// overlay of mutations (created, updated, trashed, archived, deleted records), merged at
// query time. A list page costs O(log n) binary searches over the base index
// range, plus O(page) generation, plus O(overlay) for the overlay side and the
// total: independent of how deep the page is. Lists by person (calls, texts, events)
// walk an arithmetic progression of base indices (see PersonLinks) the same way.

import {
  baseRecord,
  contactNumbers,
  type EntityName,
  type GenContext,
  isPersonChild,
  type Rec,
  stageName,
  TEXT_NUMBER_SALT,
  TIMESTAMPS,
  TRASH_STAGE_ID,
} from "./data";
import { applyHostile, BIG_ID_BASE, type HostileKind, hostileField } from "./hostile";
import { hash } from "./prng";

export type SortKey = "id" | "created" | "updated" | "name" | "orderWeight";

export interface ListFilter {
  createdAfter?: number;
  createdBefore?: number;
  updatedAfter?: number;
  updatedBefore?: number;
  idGreaterThan?: number;
  idLessThan?: number;
  /** include hidden-as-deleted records: trashed people (includeTrash), deals with status Deleted (includeDeleted) */
  includeTrash: boolean;
  /** deals: include status Archived */
  includeArchived?: boolean;
  /** explicit id list (`id=1,2,3`): every existing record, whatever its status */
  ids?: number[];
  /** calls, textMessages, events: only this person's records */
  personId?: number;
  /** textMessages: the number on either side */
  toNumber?: string;
  fromNumber?: string;
}

/** Position of the last record returned: sort key value (ms, a number or a name) and id. */
export interface Cursor {
  v: number | string;
  i: number;
}

export interface ListRequest {
  filter: ListFilter;
  sort: { key: SortKey; desc: boolean };
  cursor?: Cursor;
  offset: number;
  limit: number;
}

export interface ListResult {
  records: Rec[];
  total: number;
  /** cursor of the last record returned, when more records follow */
  next: Cursor | null;
}

export interface OverlayEntry {
  id: number;
  createdMs: number;
  updatedMs: number;
  /** hidden as deleted: a trashed person, a deal with status Deleted */
  trashed: boolean;
  /** a deal with status Archived */
  archived: boolean;
  deleted: boolean;
  /** the clean record (hostile content is applied when served) */
  record: Rec | null;
}

/** Which base records are hostile (the fault knob); null kind = clean. */
export interface HostilePolicy {
  active(): boolean;
  kind(entity: EntityName, id: number): HostileKind | null;
}

interface Item {
  k: number | string;
  id: number;
  make: () => Rec;
}

/** Base people at index i with (i + offset) % TRASH_EVERY === 0 start out trashed. */
const TRASH_EVERY = 97;
/** Base deals: residue DEAL_ARCHIVED of (i + offset) % DEAL_STATUS_EVERY is Archived, DEAL_DELETED is Deleted. */
const DEAL_STATUS_EVERY = 16;
const DEAL_ARCHIVED = 5;
const DEAL_DELETED = 11;

type BaseClass = "trashed" | "archived" | null;

function cmp(k1: number | string, id1: number, k2: number | string, id2: number): number {
  return k1 !== k2 ? (k1 < k2 ? -1 : 1) : id1 - id2;
}

/** First index in [lo, hi) where pred is true (pred monotone false → true); hi if none. */
function lowerBound(lo: number, hi: number, pred: (i: number) => boolean): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const m = Math.floor((a + b) / 2);
    if (pred(m)) b = m;
    else a = m + 1;
  }
  return a;
}

/** Number of j in [lo, hi) with (j + offset) % m === r. */
function residueCount(lo: number, hi: number, offset: number, m: number, r: number): number {
  if (hi <= lo) return 0;
  const t = (((r - offset) % m) + m) % m;
  const upTo = (x: number) => (x <= t ? 0 : Math.floor((x - t - 1) / m) + 1);
  return upTo(hi) - upTo(lo);
}

function parseMs(v: unknown): number {
  const t = typeof v === "string" ? Date.parse(v) : Number.NaN;
  return Number.isFinite(t) ? t : 0;
}

const NO_HOSTILE: HostilePolicy = { active: () => false, kind: () => null };

export class EntityStore {
  readonly overlay = new Map<number, OverlayEntry>();
  /** hostile kinds of created records (mutation `hostile`), by id */
  readonly hostile = new Map<number, HostileKind>();
  nextId: number;
  /** next id of a record created beyond 2^31 */
  nextBigId = BIG_ID_BASE + 1;
  version = 0;
  private readonly classOffset: number;
  private sortedCache: { version: number; key: SortKey; entries: OverlayEntry[] } | null = null;
  private readonly ts: { created: string; updated: string } | null;

  constructor(
    readonly ctx: GenContext,
    readonly entity: EntityName,
    readonly baseCount: number,
    private readonly hostilePolicy: HostilePolicy = NO_HOSTILE,
  ) {
    this.nextId = baseCount + 1;
    this.classOffset =
      hash(ctx.seed, 99, entity === "people" ? 0 : 2) %
      (entity === "people" ? TRASH_EVERY : DEAL_STATUS_EVERY);
    this.ts = TIMESTAMPS[entity];
  }

  /** Whether the entity has timestamps (stages and groups have none). */
  get timestamped(): boolean {
    return this.ts !== null;
  }

  // -- base set ------------------------------------------------------------

  private baseClass(i: number): BaseClass {
    if (this.entity === "people") return (i + this.classOffset) % TRASH_EVERY === 0 ? "trashed" : null;
    if (this.entity === "deals") {
      const r = (i + this.classOffset) % DEAL_STATUS_EVERY;
      return r === DEAL_DELETED ? "trashed" : r === DEAL_ARCHIVED ? "archived" : null;
    }
    return null;
  }

  baseTrashed(i: number): boolean {
    return this.baseClass(i) === "trashed";
  }

  private baseIncluded(i: number, f: ListFilter): boolean {
    const c = this.baseClass(i);
    return c === null || (c === "trashed" ? f.includeTrash : Boolean(f.includeArchived));
  }

  /** Base records in [lo, hi) a filter hides by status. */
  private baseHiddenCount(lo: number, hi: number, f: ListFilter): number {
    if (this.entity === "people")
      return f.includeTrash ? 0 : residueCount(lo, hi, this.classOffset, TRASH_EVERY, 0);
    if (this.entity === "deals") {
      let n = 0;
      if (!f.includeTrash) n += residueCount(lo, hi, this.classOffset, DEAL_STATUS_EVERY, DEAL_DELETED);
      if (!f.includeArchived) n += residueCount(lo, hi, this.classOffset, DEAL_STATUS_EVERY, DEAL_ARCHIVED);
      return n;
    }
    return 0;
  }

  baseKey(i: number, key: SortKey): number {
    const t = this.ctx.timelines[this.entity];
    if (key === "created") return t.createdSec(i) * 1000;
    if (key === "updated") return t.updatedSec(i) * 1000;
    return i + 1;
  }

  /** The base record at index i as the provider holds it (status applied, hostile content not). */
  private baseClean(i: number): Rec {
    const rec = baseRecord(this.ctx, this.entity, i);
    const c = this.baseClass(i);
    if (this.entity === "people" && c === "trashed") {
      rec.stage = stageName(TRASH_STAGE_ID);
      rec.stageId = TRASH_STAGE_ID;
    } else if (this.entity === "deals" && c !== null) {
      rec.status = c === "trashed" ? "Deleted" : "Archived";
    }
    return rec;
  }

  /** The base record at index i as served. */
  baseRec(i: number): Rec {
    return this.served(i + 1, this.baseClean(i));
  }

  // -- hostile content -------------------------------------------------------

  hostileOf(id: number): HostileKind | null {
    const k = this.hostile.get(id);
    if (k) return k;
    if (id <= this.baseCount && this.hostilePolicy.active()) return this.hostilePolicy.kind(this.entity, id);
    return null;
  }

  /** Whether a served record may hold RawJson parts (deep nesting, big numbers). */
  mayHoldRaw(): boolean {
    return this.hostile.size > 0 || this.hostilePolicy.active();
  }

  private served(id: number, clean: Rec): Rec {
    if (this.hostile.size === 0 && !this.hostilePolicy.active()) return clean;
    const kind = this.hostileOf(id);
    return kind ? applyHostile(this.entity, clean, kind) : clean;
  }

  /** Existing hostile records (trashed ones flagged), in id order. O(base count) when the knob is on. */
  hostileList(): { id: number; kind: HostileKind; field: string; trashed: boolean }[] {
    const out: { id: number; kind: HostileKind; field: string; trashed: boolean }[] = [];
    const add = (id: number) => {
      const kind = this.hostileOf(id);
      const got = kind ? this.getEntry(id) : null;
      if (kind && got) out.push({ id, kind, field: hostileField(this.entity, kind), trashed: got.trashed });
    };
    if (this.hostilePolicy.active()) for (let id = 1; id <= this.baseCount; id++) add(id);
    for (const id of [...this.hostile.keys()].sort((a, b) => a - b))
      if (id > this.baseCount || !this.hostilePolicy.active()) add(id);
    return out.sort((a, b) => a.id - b.id);
  }

  // -- point reads and writes ---------------------------------------------

  /** The current clean record with its state, or null when deleted / never existed. */
  getEntry(
    id: number,
  ): { record: Rec; trashed: boolean; archived: boolean; createdMs: number; updatedMs: number } | null {
    if (!Number.isInteger(id) || id < 1) return null;
    const e = this.overlay.get(id);
    if (e)
      return e.deleted || !e.record
        ? null
        : {
            record: e.record,
            trashed: e.trashed,
            archived: e.archived,
            createdMs: e.createdMs,
            updatedMs: e.updatedMs,
          };
    if (id > this.baseCount) return null;
    const i = id - 1;
    const c = this.baseClass(i);
    return {
      record: this.baseClean(i),
      trashed: c === "trashed",
      archived: c === "archived",
      createdMs: this.timestamped ? this.baseKey(i, "created") : 0,
      updatedMs: this.timestamped ? this.baseKey(i, "updated") : 0,
    };
  }

  /** The current record as served (trashed included) or null when deleted / never existed. */
  get(id: number): { record: Rec; trashed: boolean; updatedMs: number } | null {
    const e = this.getEntry(id);
    return e ? { record: this.served(id, e.record), trashed: e.trashed, updatedMs: e.updatedMs } : null;
  }

  exists(id: number): boolean {
    const e = this.overlay.get(id);
    if (e) return !e.deleted;
    return Number.isInteger(id) && id >= 1 && id <= this.baseCount;
  }

  isTrashed(id: number): boolean {
    const e = this.overlay.get(id);
    if (e) return e.trashed;
    return id >= 1 && id <= this.baseCount && this.baseTrashed(id - 1);
  }

  isArchived(id: number): boolean {
    const e = this.overlay.get(id);
    if (e) return e.archived;
    return id >= 1 && id <= this.baseCount && this.baseClass(id - 1) === "archived";
  }

  /** Store a clean record (hostile content is applied when served). */
  put(record: Rec, trashed: boolean, archived = false): void {
    const id = record.id as number;
    this.overlay.set(id, {
      id,
      createdMs: this.ts ? parseMs(record[this.ts.created]) : 0,
      updatedMs: this.ts ? parseMs(record[this.ts.updated]) : 0,
      trashed,
      archived,
      deleted: false,
      record,
    });
    if (id >= this.nextId && id < BIG_ID_BASE) this.nextId = id + 1;
    this.version++;
  }

  delete(id: number): void {
    const prev = this.getEntry(id);
    this.overlay.set(id, {
      id,
      createdMs: prev?.createdMs ?? 0,
      updatedMs: prev?.updatedMs ?? 0,
      trashed: false,
      archived: false,
      deleted: true,
      record: null,
    });
    this.version++;
  }

  deletedIds(): number[] {
    const out: number[] = [];
    for (const e of this.overlay.values()) if (e.deleted) out.push(e.id);
    return out.sort((a, b) => a - b);
  }

  /** Existing records of a person (calls, texts, events): what FUB deletes with the person. */
  childIds(personId: number): number[] {
    if (!isPersonChild(this.entity)) return [];
    const out = new Set<number>();
    const links = this.ctx.links[this.entity];
    const first = links.firstIndexOf(personId);
    if (first !== null) {
      for (let i = first; i < this.baseCount; i += links.q) {
        const id = i + 1;
        const e = this.overlay.get(id);
        if (!e || (!e.deleted && e.record?.personId === personId)) out.add(id);
      }
    }
    for (const e of this.overlay.values()) if (!e.deleted && e.record?.personId === personId) out.add(e.id);
    return [...out].sort((a, b) => a - b);
  }

  // -- lists -----------------------------------------------------------------

  private entryKey(e: OverlayEntry, key: SortKey): number | string {
    if (key === "created") return e.createdMs;
    if (key === "updated") return e.updatedMs;
    if (key === "name") return String(this.served(e.id, e.record as Rec).name ?? "");
    if (key === "orderWeight") return Number((e.record as Rec).orderWeight ?? 0);
    return e.id;
  }

  private matches(e: OverlayEntry, f: ListFilter): boolean {
    if (e.deleted) return false;
    if (e.trashed && !f.includeTrash) return false;
    if (e.archived && !f.includeArchived) return false;
    if (!this.matchesRecord(e.record as Rec, f)) return false;
    return this.matchesValues(e.id, e.createdMs, e.updatedMs, f);
  }

  /** Person and number filters on a record's own fields. */
  private matchesRecord(rec: Rec, f: ListFilter): boolean {
    if (f.personId !== undefined && isPersonChild(this.entity) && rec.personId !== f.personId) return false;
    if (this.entity === "textMessages") {
      if (f.toNumber !== undefined && rec.toNumber !== f.toNumber) return false;
      if (f.fromNumber !== undefined && rec.fromNumber !== f.fromNumber) return false;
    }
    return true;
  }

  private matchesValues(id: number, createdMs: number, updatedMs: number, f: ListFilter): boolean {
    if (f.idGreaterThan !== undefined && !(id > f.idGreaterThan)) return false;
    if (f.idLessThan !== undefined && !(id < f.idLessThan)) return false;
    if (!this.timestamped) return true;
    if (f.createdAfter !== undefined && !(createdMs > f.createdAfter)) return false;
    if (f.createdBefore !== undefined && !(createdMs < f.createdBefore)) return false;
    if (f.updatedAfter !== undefined && !(updatedMs > f.updatedAfter)) return false;
    if (f.updatedBefore !== undefined && !(updatedMs < f.updatedBefore)) return false;
    return true;
  }

  /** Base index range [lo, hi) matching the id/created/updated filters (status and overlay not applied). */
  private baseRange(f: ListFilter): [number, number] {
    let lo = 0;
    let hi = this.baseCount;
    if (f.idGreaterThan !== undefined) lo = Math.max(lo, Math.min(hi, Math.floor(f.idGreaterThan)));
    if (f.idLessThan !== undefined) hi = Math.min(hi, Math.max(0, Math.ceil(f.idLessThan) - 1));
    if (lo > hi) return [lo, lo];
    const t = this.ctx.timelines[this.entity];
    const { createdAfter, createdBefore, updatedAfter, updatedBefore } = f;
    if (createdAfter !== undefined) lo = lowerBound(lo, hi, (i) => t.createdSec(i) * 1000 > createdAfter);
    if (createdBefore !== undefined) hi = lowerBound(lo, hi, (i) => t.createdSec(i) * 1000 >= createdBefore);
    if (updatedAfter !== undefined) lo = lowerBound(lo, hi, (i) => t.updatedSec(i) * 1000 > updatedAfter);
    if (updatedBefore !== undefined) hi = lowerBound(lo, hi, (i) => t.updatedSec(i) * 1000 >= updatedBefore);
    return [lo, Math.max(lo, hi)];
  }

  /**
   * The base indices a filter can match, as first + k * step for k in [kLo, kHi), plus a
   * predicate for filters that need a look at each index (text numbers: a scan).
   */
  private baseSeq(f: ListFilter): {
    first: number;
    step: number;
    kLo: number;
    kHi: number;
    pred: ((i: number) => boolean) | null;
  } {
    const [lo, hi] = this.baseRange(f);
    let first = 0;
    let step = 1;
    if (f.personId !== undefined && isPersonChild(this.entity)) {
      const links = this.ctx.links[this.entity];
      const fi = links.firstIndexOf(f.personId);
      if (fi === null) return { first: 0, step: 1, kLo: 0, kHi: 0, pred: null };
      first = fi;
      step = links.q;
    }
    const kLo = Math.max(0, Math.ceil((lo - first) / step));
    const kHi = Math.max(kLo, Math.ceil((hi - first) / step));
    let pred: ((i: number) => boolean) | null = null;
    if (this.entity === "textMessages" && (f.toNumber !== undefined || f.fromNumber !== undefined)) {
      const links = this.ctx.links.textMessages;
      pred = (i) => {
        const n = contactNumbers(this.ctx.seed, TEXT_NUMBER_SALT, i + 1, links.personOf(i));
        return (
          (f.toNumber === undefined || n.toNumber === f.toNumber) &&
          (f.fromNumber === undefined || n.fromNumber === f.fromNumber)
        );
      };
    }
    return { first, step, kLo, kHi, pred };
  }

  private sortedOverlay(key: SortKey): OverlayEntry[] {
    const c = this.sortedCache;
    if (c && c.version === this.version && c.key === key) return c.entries;
    const entries = [...this.overlay.values()].filter((e) => !e.deleted);
    entries.sort((a, b) => cmp(this.entryKey(a, key), a.id, this.entryKey(b, key), b.id));
    this.sortedCache = { version: this.version, key, entries };
    return entries;
  }

  count(f: ListFilter): number {
    const { first, step, kLo, kHi, pred } = this.baseSeq(f);
    let total = 0;
    if (pred) {
      for (let k = kLo; k < kHi; k++) {
        const i = first + k * step;
        if (pred(i) && this.baseIncluded(i, f)) total++;
      }
    } else if (step === 1) {
      total = kHi - kLo - this.baseHiddenCount(first + kLo, first + kHi, f);
    } else {
      // Person-scoped entities have no status classes: every index of the progression counts.
      total = kHi - kLo;
    }
    for (const e of this.overlay.values()) {
      if (e.id <= this.baseCount) {
        const i = e.id - 1;
        const k = (i - first) / step;
        if (Number.isInteger(k) && k >= kLo && k < kHi && (!pred || pred(i)) && this.baseIncluded(i, f))
          total--;
      }
      if (this.matches(e, f)) total++;
    }
    return total;
  }

  list(req: ListRequest): ListResult {
    if (req.filter.ids) return this.listIds(req);
    if (!this.timestamped) return this.listMaterialized(req);
    const { key, desc } = req.sort;
    const f = req.filter;
    const total = this.count(f);
    const { first, step, pred, ...range } = this.baseSeq(f);
    let { kLo, kHi } = range;
    const at = (k: number) => first + k * step;
    const c = req.cursor;
    if (c) {
      if (!desc) kLo = lowerBound(kLo, kHi, (k) => cmp(this.baseKey(at(k), key), at(k) + 1, c.v, c.i) > 0);
      else kHi = lowerBound(kLo, kHi, (k) => cmp(this.baseKey(at(k), key), at(k) + 1, c.v, c.i) >= 0);
    }
    // Base side iterator.
    let bk = desc ? kHi - 1 : kLo;
    const nextBase = (): Item | undefined => {
      while (desc ? bk >= kLo : bk < kHi) {
        const i = at(bk);
        bk += desc ? -1 : 1;
        if (this.overlay.has(i + 1)) continue;
        if (!this.baseIncluded(i, f)) continue;
        if (pred && !pred(i)) continue;
        return { k: this.baseKey(i, key), id: i + 1, make: () => this.baseRec(i) };
      }
      return undefined;
    };
    // Overlay side iterator.
    const sorted = this.sortedOverlay(key);
    let oi: number;
    if (!c) oi = desc ? sorted.length - 1 : 0;
    else if (!desc)
      oi = lowerBound(0, sorted.length, (p) => {
        const e = sorted[p] as OverlayEntry;
        return cmp(this.entryKey(e, key), e.id, c.v, c.i) > 0;
      });
    else
      oi =
        lowerBound(0, sorted.length, (p) => {
          const e = sorted[p] as OverlayEntry;
          return cmp(this.entryKey(e, key), e.id, c.v, c.i) >= 0;
        }) - 1;
    const nextOverlay = (): Item | undefined => {
      while (desc ? oi >= 0 : oi < sorted.length) {
        const e = sorted[oi] as OverlayEntry;
        oi += desc ? -1 : 1;
        if (!this.matches(e, f)) continue;
        return { k: this.entryKey(e, key), id: e.id, make: () => this.served(e.id, e.record as Rec) };
      }
      return undefined;
    };
    return this.merge(nextBase, nextOverlay, desc, req.offset, req.limit, total);
  }

  private merge(
    nextA: () => Item | undefined,
    nextB: () => Item | undefined,
    desc: boolean,
    offset: number,
    limit: number,
    total: number,
  ): ListResult {
    let a = nextA();
    let b = nextB();
    let skip = offset;
    const records: Rec[] = [];
    let last: Item | undefined;
    let hasMore = false;
    while (a || b) {
      let take: Item;
      if (a && (!b || (desc ? cmp(a.k, a.id, b.k, b.id) > 0 : cmp(a.k, a.id, b.k, b.id) < 0))) {
        take = a;
        a = nextA();
      } else {
        take = b as Item;
        b = nextB();
      }
      if (skip > 0) {
        skip--;
        continue;
      }
      if (records.length === limit) {
        hasMore = true;
        break;
      }
      records.push(take.make());
      last = take;
    }
    return { records, total, next: hasMore && last ? { v: last.k, i: last.id } : null };
  }

  /** Sorts items, applies the cursor and pages them. */
  private pageOf(items: Item[], req: ListRequest): ListResult {
    const desc = req.sort.desc;
    items.sort((x, y) => (desc ? -1 : 1) * cmp(x.k, x.id, y.k, y.id));
    const c = req.cursor;
    const rest = c
      ? items.filter((x) => (desc ? cmp(x.k, x.id, c.v, c.i) < 0 : cmp(x.k, x.id, c.v, c.i) > 0))
      : items;
    let p = 0;
    return this.merge(
      () => rest[p++],
      () => undefined,
      desc,
      req.offset,
      req.limit,
      items.length,
    );
  }

  private itemKey(key: SortKey, id: number, rec: Rec, createdMs: number, updatedMs: number): number | string {
    if (key === "created") return createdMs;
    if (key === "updated") return updatedMs;
    if (key === "name") return String(rec.name ?? "");
    if (key === "orderWeight") return Number(rec.orderWeight ?? 0);
    return id;
  }

  private listIds(req: ListRequest): ListResult {
    const f = req.filter;
    const items: Item[] = [];
    const seen = new Set<number>();
    for (const id of f.ids ?? []) {
      if (seen.has(id)) continue;
      seen.add(id);
      const got = this.getEntry(id);
      if (!got) continue;
      if (!this.matchesValues(id, got.createdMs, got.updatedMs, f)) continue;
      const record = this.served(id, got.record);
      items.push({
        k: this.itemKey(req.sort.key, id, record, got.createdMs, got.updatedMs),
        id,
        make: () => record,
      });
    }
    return this.pageOf(items, req);
  }

  /**
   * Stages and groups: no timestamps, sorted by name or orderWeight, so the (small) current set
   * is generated and sorted per request.
   */
  private listMaterialized(req: ListRequest): ListResult {
    const f = req.filter;
    const items: Item[] = [];
    const push = (id: number, record: Rec) => {
      if (!this.matchesValues(id, 0, 0, f)) return;
      items.push({ k: this.itemKey(req.sort.key, id, record, 0, 0), id, make: () => record });
    };
    for (let i = 0; i < this.baseCount; i++) if (!this.overlay.has(i + 1)) push(i + 1, this.baseRec(i));
    for (const e of this.overlay.values())
      if (!e.deleted && e.record) push(e.id, this.served(e.id, e.record));
    return this.pageOf(items, req);
  }

  // -- ground truth ----------------------------------------------------------

  /** Ids at or beyond 2^31 that exist in the overlay, ascending. */
  private bigIds(): number[] {
    const out: number[] = [];
    for (const id of this.overlay.keys()) if (id >= BIG_ID_BASE) out.push(id);
    return out.sort((a, b) => a - b);
  }

  private *allIds(): Generator<number> {
    for (let id = 1; id < this.nextId; id++) yield id;
    yield* this.bigIds();
  }

  /**
   * Every id in id order with its current state; `record` (as served) is null for deleted ids.
   * Base ids that were never touched are generated on the fly.
   */
  *walk(): Generator<{
    id: number;
    record: Rec | null;
    trashed: boolean;
    archived: boolean;
    updatedMs: number;
  }> {
    for (const id of this.allIds()) {
      const e = this.overlay.get(id);
      if (e) {
        yield {
          id,
          record: e.deleted || !e.record ? null : this.served(id, e.record),
          trashed: e.trashed,
          archived: e.archived,
          updatedMs: e.updatedMs,
        };
      } else if (id <= this.baseCount) {
        const i = id - 1;
        const c = this.baseClass(i);
        yield {
          id,
          record: this.baseRec(i),
          trashed: c === "trashed",
          archived: c === "archived",
          updatedMs: this.timestamped ? this.baseKey(i, "updated") : 0,
        };
      }
    }
  }

  /** Summary of the visible set without generating records. */
  summary(): {
    count: number;
    idSum: number;
    maxUpdatedMs: number;
    deletedIds: number[];
    trashedIds: number[];
    archivedIds: number[];
  } {
    let count = 0;
    let idSum = 0;
    let maxUpdatedMs = 0;
    const trashedIds: number[] = [];
    const archivedIds: number[] = [];
    const t = this.ctx.timelines[this.entity];
    for (const id of this.allIds()) {
      const e = this.overlay.get(id);
      let c: BaseClass;
      let updatedMs: number;
      if (e) {
        if (e.deleted) continue;
        c = e.trashed ? "trashed" : e.archived ? "archived" : null;
        updatedMs = e.updatedMs;
      } else if (id <= this.baseCount) {
        c = this.baseClass(id - 1);
        updatedMs = this.timestamped ? t.updatedSec(id - 1) * 1000 : 0;
      } else continue;
      if (c === "trashed") {
        trashedIds.push(id);
        continue;
      }
      if (c === "archived") archivedIds.push(id);
      count++;
      idSum += id;
      if (updatedMs > maxUpdatedMs) maxUpdatedMs = updatedMs;
    }
    return { count, idSum, maxUpdatedMs, deletedIds: this.deletedIds(), trashedIds, archivedIds };
  }
}

/** Trashed people carry the Trash stage, so mutations never delete it. */
export function protectedStage(id: number): boolean {
  return id === TRASH_STAGE_ID;
}
