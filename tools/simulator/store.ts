// One entity's dataset for one tenant: the lazily generated base set plus a small
// overlay of mutations (created, updated, trashed, deleted records), merged at
// query time. A list page costs O(log n) binary searches over the base index
// range, plus O(page) generation, plus O(overlay) for the overlay side and the
// total: independent of how deep the page is.

import { baseRecord, type EntityName, type GenContext, type Rec, stageName, TRASH_STAGE_ID } from "./data";
import { hash } from "./prng";

export type SortKey = "id" | "created" | "updated";

export interface ListFilter {
  createdAfter?: number;
  createdBefore?: number;
  updatedAfter?: number;
  updatedBefore?: number;
  idGreaterThan?: number;
  idLessThan?: number;
  /** people only: include trashed records */
  includeTrash: boolean;
  /** explicit id list (`id=1,2,3`): trashed records are included */
  ids?: number[];
}

/** Position of the last record returned: sort key value (ms, or the id) and id. */
export interface Cursor {
  v: number;
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
  trashed: boolean;
  deleted: boolean;
  record: Rec | null;
}

interface Item {
  k: number;
  id: number;
  make: () => Rec;
}

/** Base people at index i with (i + offset) % TRASH_EVERY === 0 start out trashed. */
const TRASH_EVERY = 97;

function cmp(k1: number, id1: number, k2: number, id2: number): number {
  return k1 !== k2 ? (k1 < k2 ? -1 : 1) : id1 - id2;
}

/** First index in [lo, hi) where pred is true (pred monotone false → true); hi if none. */
function lowerBound(lo: number, hi: number, pred: (i: number) => boolean): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (pred(m)) b = m;
    else a = m + 1;
  }
  return a;
}

function parseMs(v: unknown): number {
  const t = typeof v === "string" ? Date.parse(v) : Number.NaN;
  return Number.isFinite(t) ? t : 0;
}

export class EntityStore {
  readonly overlay = new Map<number, OverlayEntry>();
  nextId: number;
  version = 0;
  private readonly trashOffset: number;
  private sortedCache: { version: number; key: SortKey; entries: OverlayEntry[] } | null = null;

  constructor(
    readonly ctx: GenContext,
    readonly entity: EntityName,
    readonly baseCount: number,
  ) {
    this.nextId = baseCount + 1;
    this.trashOffset = hash(ctx.seed, 99) % TRASH_EVERY;
  }

  // -- base set ------------------------------------------------------------

  baseTrashed(i: number): boolean {
    return this.entity === "people" && (i + this.trashOffset) % TRASH_EVERY === 0;
  }

  private baseTrashedCount(lo: number, hi: number): number {
    if (this.entity !== "people" || hi <= lo) return 0;
    const a = lo + this.trashOffset;
    const b = hi + this.trashOffset;
    return Math.floor((b - 1) / TRASH_EVERY) - Math.floor((a - 1) / TRASH_EVERY);
  }

  baseKey(i: number, key: SortKey): number {
    const t = this.ctx.timelines[this.entity];
    if (key === "id") return i + 1;
    return (key === "created" ? t.createdSec(i) : t.updatedSec(i)) * 1000;
  }

  baseRec(i: number): Rec {
    const rec = baseRecord(this.ctx, this.entity, i);
    if (this.baseTrashed(i)) {
      rec.stage = stageName(TRASH_STAGE_ID);
      rec.stageId = TRASH_STAGE_ID;
    }
    return rec;
  }

  // -- point reads and writes ---------------------------------------------

  /** The current record (trashed included) or null when deleted / never existed. */
  get(id: number): { record: Rec; trashed: boolean; updatedMs: number } | null {
    if (!Number.isInteger(id) || id < 1) return null;
    const e = this.overlay.get(id);
    if (e)
      return e.deleted || !e.record ? null : { record: e.record, trashed: e.trashed, updatedMs: e.updatedMs };
    if (id > this.baseCount) return null;
    const i = id - 1;
    return { record: this.baseRec(i), trashed: this.baseTrashed(i), updatedMs: this.baseKey(i, "updated") };
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

  put(record: Rec, trashed: boolean): void {
    const id = record.id as number;
    this.overlay.set(id, {
      id,
      createdMs: parseMs(record.created),
      updatedMs: parseMs(record.updated),
      trashed,
      deleted: false,
      record,
    });
    if (id >= this.nextId) this.nextId = id + 1;
    this.version++;
  }

  delete(id: number): void {
    const prev = this.get(id);
    this.overlay.set(id, {
      id,
      createdMs: prev ? parseMs(prev.record.created) : 0,
      updatedMs: prev?.updatedMs ?? 0,
      trashed: false,
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

  // -- lists -----------------------------------------------------------------

  private entryKey(e: OverlayEntry, key: SortKey): number {
    return key === "id" ? e.id : key === "created" ? e.createdMs : e.updatedMs;
  }

  private matches(e: OverlayEntry, f: ListFilter): boolean {
    if (e.deleted) return false;
    if (e.trashed && !f.includeTrash) return false;
    return this.matchesValues(e.id, e.createdMs, e.updatedMs, f);
  }

  private matchesValues(id: number, createdMs: number, updatedMs: number, f: ListFilter): boolean {
    if (f.idGreaterThan !== undefined && !(id > f.idGreaterThan)) return false;
    if (f.idLessThan !== undefined && !(id < f.idLessThan)) return false;
    if (f.createdAfter !== undefined && !(createdMs > f.createdAfter)) return false;
    if (f.createdBefore !== undefined && !(createdMs < f.createdBefore)) return false;
    if (f.updatedAfter !== undefined && !(updatedMs > f.updatedAfter)) return false;
    if (f.updatedBefore !== undefined && !(updatedMs < f.updatedBefore)) return false;
    return true;
  }

  /** Base index range [lo, hi) matching the id/created/updated filters (trash and overlay not applied). */
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

  private sortedOverlay(key: SortKey): OverlayEntry[] {
    const c = this.sortedCache;
    if (c && c.version === this.version && c.key === key) return c.entries;
    const entries = [...this.overlay.values()].filter((e) => !e.deleted);
    entries.sort((a, b) => cmp(this.entryKey(a, key), a.id, this.entryKey(b, key), b.id));
    this.sortedCache = { version: this.version, key, entries };
    return entries;
  }

  count(f: ListFilter): number {
    const [lo, hi] = this.baseRange(f);
    let total = hi - lo;
    if (!f.includeTrash) total -= this.baseTrashedCount(lo, hi);
    for (const e of this.overlay.values()) {
      if (e.id <= this.baseCount) {
        const i = e.id - 1;
        if (i >= lo && i < hi && (f.includeTrash || !this.baseTrashed(i))) total--;
      }
      if (this.matches(e, f)) total++;
    }
    return total;
  }

  list(req: ListRequest): ListResult {
    if (req.filter.ids) return this.listIds(req);
    const { key, desc } = req.sort;
    const f = req.filter;
    const total = this.count(f);
    let [lo, hi] = this.baseRange(f);
    const c = req.cursor;
    if (c) {
      if (!desc) lo = lowerBound(lo, hi, (i) => cmp(this.baseKey(i, key), i + 1, c.v, c.i) > 0);
      else hi = lowerBound(lo, hi, (i) => cmp(this.baseKey(i, key), i + 1, c.v, c.i) >= 0);
    }
    // Base side iterator.
    let bi = desc ? hi - 1 : lo;
    const nextBase = (): Item | undefined => {
      while (desc ? bi >= lo : bi < hi) {
        const i = bi;
        bi += desc ? -1 : 1;
        if (this.overlay.has(i + 1)) continue;
        if (!f.includeTrash && this.baseTrashed(i)) continue;
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
        return { k: this.entryKey(e, key), id: e.id, make: () => e.record as Rec };
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

  private listIds(req: ListRequest): ListResult {
    const { key, desc } = req.sort;
    const f = req.filter;
    const items: Item[] = [];
    const seen = new Set<number>();
    for (const id of f.ids ?? []) {
      if (seen.has(id)) continue;
      seen.add(id);
      const got = this.get(id);
      if (!got) continue;
      const createdMs = parseMs(got.record.created);
      if (!this.matchesValues(id, createdMs, got.updatedMs, f)) continue;
      const k = key === "id" ? id : key === "created" ? createdMs : got.updatedMs;
      const record = got.record;
      items.push({ k, id, make: () => record });
    }
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

  // -- ground truth ----------------------------------------------------------

  /**
   * Every id in id order with its current state; `record` is null for deleted ids.
   * Base ids that were never touched are generated on the fly.
   */
  *walk(): Generator<{ id: number; record: Rec | null; trashed: boolean; updatedMs: number }> {
    for (let id = 1; id < this.nextId; id++) {
      const e = this.overlay.get(id);
      if (e) {
        yield { id, record: e.deleted ? null : e.record, trashed: e.trashed, updatedMs: e.updatedMs };
      } else if (id <= this.baseCount) {
        const i = id - 1;
        yield {
          id,
          record: this.baseRec(i),
          trashed: this.baseTrashed(i),
          updatedMs: this.baseKey(i, "updated"),
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
  } {
    let count = 0;
    let idSum = 0;
    let maxUpdatedMs = 0;
    const trashedIds: number[] = [];
    const t = this.ctx.timelines[this.entity];
    for (let id = 1; id < this.nextId; id++) {
      const e = this.overlay.get(id);
      let trashed: boolean;
      let updatedMs: number;
      if (e) {
        if (e.deleted) continue;
        trashed = e.trashed;
        updatedMs = e.updatedMs;
      } else if (id <= this.baseCount) {
        trashed = this.baseTrashed(id - 1);
        updatedMs = t.updatedSec(id - 1) * 1000;
      } else continue;
      if (trashed) {
        trashedIds.push(id);
        continue;
      }
      count++;
      idSum += id;
      if (updatedMs > maxUpdatedMs) maxUpdatedMs = updatedMs;
    }
    return { count, idSum, maxUpdatedMs, deletedIds: this.deletedIds(), trashedIds };
  }
}
