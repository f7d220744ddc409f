// The brokerage's state and how it changes: generation from a seed, mutations at the data clock, and the
// ground truth (what a correct sync holds).

import { hash } from "../simulator/prng";
import {
  type Brokerage,
  fileFields,
  guid,
  instantOf,
  renderFile,
  type SimFile,
  type Time,
  ticksFor,
} from "./data";

export interface Counts {
  sales: number;
  listings: number;
  users: number;
  offices: number;
}

export const DEFAULT_COUNTS: Counts = { sales: 120, listings: 80, users: 12, offices: 3 };

const formats = new Map<string, Intl.DateTimeFormat>();

/** UTC offset (seconds) of a zone at an instant. */
function offsetAt(zone: string, s: number): number {
  const f =
    formats.get(zone) ??
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  formats.set(zone, f);
  const p: Record<string, number> = {};
  for (const x of f.formatToParts(new Date(s * 1000))) if (x.type !== "literal") p[x.type] = Number(x.value);
  return (
    Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0) / 1000 -
    s
  );
}

/** The spring-forward changes (offset grows) of a zone between two instants, to the second. */
export function springForwards(zone: string, from: number, to: number): number[] {
  const out: number[] = [];
  for (let s = from; s < to; s += 3600) {
    if (offsetAt(zone, s + 3600) > offsetAt(zone, s)) {
      let lo = s;
      let hi = s + 3600;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (offsetAt(zone, mid) > offsetAt(zone, s)) hi = mid;
        else lo = mid;
      }
      out.push(hi);
    }
  }
  return out;
}

/** Whether a wall time near `s` repeats (a fall-back within two hours): its text names two instants. */
export function ambiguous(zone: string, s: number): boolean {
  return offsetAt(zone, s - 7200) > offsetAt(zone, s + 7200);
}

export class Store {
  readonly b: Brokerage = { files: new Map(), users: new Map(), offices: new Map(), seq: 0 };

  constructor(
    readonly seed: number,
    readonly zone: string,
  ) {}

  private agents(): string[] {
    return [...this.b.users.values()].filter((u) => !u.deactivated).map((u) => u.userGuid);
  }

  private officeIds(): string[] {
    return [...this.b.offices.values()].filter((o) => !o.deleted).map((o) => o.officeGuid);
  }

  /** A time the zone's clock shows once: shifted past a fall-back's repeated hour. */
  private unambiguous(s: number): number {
    let t = s;
    while (ambiguous(this.zone, t)) t += 3600;
    return t;
  }

  addOffice(): string {
    const n = ++this.b.seq;
    const id = guid(this.seed, n);
    this.b.offices.set(id, { officeGuid: id, officeName: `Office ${n}`, deleted: false });
    return id;
  }

  addUser(): string {
    const n = ++this.b.seq;
    const id = guid(this.seed, n);
    const offices = this.officeIds();
    this.b.users.set(id, {
      userGuid: id,
      deactivated: false,
      fields: {
        publicId: String(10_000 + n),
        firstName: `First${n}`,
        lastName: `Last${n}`,
        email: `agent${n}@brokerage.test`,
        phone: `916-555-${String(n % 10_000).padStart(4, "0")}`,
        alternatePhone: null,
        streetNumber: null,
        streetName: null,
        city: "Sacramento",
        state: "CA",
        zipCode: "95814",
        userType: n % 5 === 0 ? "Broker" : "Agent",
        officeGuid: offices.length ? offices[n % offices.length] : null,
      },
    });
    return id;
  }

  addFile(kind: "sale" | "listing", at: Time): string {
    const n = ++this.b.seq;
    const id = guid(this.seed, n);
    this.b.files.set(id, {
      kind,
      guid: id,
      created: at,
      modified: at,
      deleted: false,
      fields: fileFields(kind, this.seed, n, this.agents(), this.officeIds()),
    });
    return id;
  }

  /** Seeds the brokerage: offices, users, then files created over the year before `nowMs`. */
  generate(counts: Counts, nowMs: number): void {
    for (let i = 0; i < counts.offices; i++) this.addOffice();
    for (let i = 0; i < counts.users; i++) this.addUser();
    const now = Math.floor(nowMs / 1000);
    const from = now - 400 * 86_400;
    // Files straddling the zone's last spring-forward first, so every seed has times either side of one.
    const changes = springForwards(this.zone, from, now - 86_400);
    const pinned: number[] = [];
    const last = changes[changes.length - 1];
    if (last !== undefined) pinned.push(last - 1, last);
    const total = counts.sales + counts.listings;
    for (let i = 0; i < total; i++) {
      const kind = i < counts.sales ? "sale" : "listing";
      const s = pinned[i] ?? this.unambiguous(from + (hash(this.seed, i, 99) % (now - 86_400 - from)));
      const ms = pinned[i] !== undefined ? (i === 0 ? 500 : 120) : hash(this.seed, i, 98) % 1000;
      const id = this.addFile(kind, { s, ticks: ticksFor(this.seed, i, ms) });
      const f = this.b.files.get(id) as SimFile;
      // Some files modified after they were created, some not.
      if (i % 3 === 1 && pinned[i] === undefined) {
        const m = this.unambiguous(Math.min(now - 3600, s + (hash(this.seed, i, 97) % (30 * 86_400))));
        f.modified = { s: m, ticks: ticksFor(this.seed, i + 1, hash(this.seed, i, 96) % 1000) };
      }
    }
  }

  touch(f: SimFile, at: Time): void {
    f.modified = at;
    const status = f.fields.status;
    f.fields = {
      ...f.fields,
      status: status === "Pending" ? "Closed" : "Pending",
      mlsNumber: `ML${at.s % 1_000_000}`,
    };
  }

  renderedFiles(kind: "sale" | "listing" | "all"): SimFile[] {
    return [...this.b.files.values()]
      .filter((f) => !f.deleted && (kind === "all" || f.kind === kind))
      .sort(
        (a, b) =>
          a.created.s - b.created.s || a.created.ticks - b.created.ticks || (a.guid < b.guid ? -1 : 1),
      );
  }

  render(f: SimFile): Record<string, unknown> {
    return renderFile(f, this.zone);
  }

  /** What a correct sync holds: live files with their instants, active users, offices. */
  truth() {
    const files = (kind: "sale" | "listing") =>
      this.renderedFiles(kind).map((f) => ({
        guid: f.guid,
        modifiedAt: instantOf(f.modified),
        createdAt: instantOf(f.created),
        record: this.render(f),
      }));
    return {
      zone: this.zone,
      transactions: files("sale"),
      listings: files("listing"),
      users: [...this.b.users.values()]
        .filter((u) => !u.deactivated)
        .map((u) => ({ userGuid: u.userGuid, ...u.fields })),
      offices: [...this.b.offices.values()]
        .filter((o) => !o.deleted)
        .map((o) => ({ officeGuid: o.officeGuid, officeName: o.officeName })),
    };
  }
}

export type MutateRequest = {
  kind: "sale" | "listing" | "user" | "office";
  creates?: number;
  updates?: number;
  /** Files removed (or users deactivated, offices closed): no signal, they just leave the lists. */
  deletes?: number;
  /** Removed ones come back, unchanged (same modifiedOn): only a later scan can see it. */
  restores?: number;
};

export type MutateResult = { created: string[]; updated: string[]; deleted: string[]; restored: string[] };

export function mutate(store: Store, req: MutateRequest, nowMs: number): MutateResult {
  const at: Time = { s: Math.floor(nowMs / 1000), ticks: (nowMs % 1000) * 10_000 };
  const out: MutateResult = { created: [], updated: [], deleted: [], restored: [] };
  const b = store.b;
  if (req.kind === "sale" || req.kind === "listing") {
    const kind = req.kind;
    const live = () => [...b.files.values()].filter((f) => f.kind === kind && !f.deleted);
    for (let i = 0; i < (req.updates ?? 0); i++) {
      const f = live()[(i * 7) % Math.max(1, live().length)];
      if (!f) break;
      store.touch(f, at);
      out.updated.push(f.guid);
    }
    for (let i = 0; i < (req.deletes ?? 0); i++) {
      const f = live().filter((x) => !out.updated.includes(x.guid))[i * 3];
      if (!f) break;
      f.deleted = true;
      out.deleted.push(f.guid);
    }
    const gone = [...b.files.values()].filter(
      (f) => f.kind === kind && f.deleted && !out.deleted.includes(f.guid),
    );
    for (const f of gone.slice(0, req.restores ?? 0)) {
      f.deleted = false;
      out.restored.push(f.guid);
    }
    for (let i = 0; i < (req.creates ?? 0); i++) out.created.push(store.addFile(kind, at));
  } else if (req.kind === "user") {
    const active = () => [...b.users.values()].filter((u) => !u.deactivated);
    for (let i = 0; i < (req.updates ?? 0); i++) {
      const u = active()[i];
      if (!u) break;
      u.fields = { ...u.fields, phone: `916-555-${String(at.s % 10_000).padStart(4, "0")}` };
      out.updated.push(u.userGuid);
    }
    for (let i = 0; i < (req.deletes ?? 0); i++) {
      const u = active().filter((x) => !out.updated.includes(x.userGuid))[i];
      if (!u) break;
      u.deactivated = true;
      out.deleted.push(u.userGuid);
    }
    for (const u of [...b.users.values()]
      .filter((x) => x.deactivated && !out.deleted.includes(x.userGuid))
      .slice(0, req.restores ?? 0)) {
      u.deactivated = false;
      out.restored.push(u.userGuid);
    }
    for (let i = 0; i < (req.creates ?? 0); i++) out.created.push(store.addUser());
  } else {
    for (let i = 0; i < (req.creates ?? 0); i++) out.created.push(store.addOffice());
    const live = [...b.offices.values()].filter((o) => !o.deleted);
    for (let i = 0; i < (req.updates ?? 0) && i < live.length; i++) {
      const o = live[i] as (typeof live)[number];
      o.officeName = `${o.officeName} (renamed)`;
      out.updated.push(o.officeGuid);
    }
    for (let i = 0; i < (req.deletes ?? 0); i++) {
      const o = live.filter((x) => !out.updated.includes(x.officeGuid))[i];
      if (!o) break;
      o.deleted = true;
      out.deleted.push(o.officeGuid);
    }
  }
  return out;
}
