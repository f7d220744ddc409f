// SkySlope simulator: a Hono app behaving like SkySlope's legacy API (`/auth/login`, `/api/...`) as
// ../shared/PROVIDERS-WAVE2.md §3 describes it, plus a control plane (`/_sim`). Web-standard APIs only.
// Written from the facts file and the vendor sample, never from the connector. See README.md.

import { Hono } from "hono";
import { type AuthConfig, checkLogin, DEFAULT_AUTH } from "./auth";
import { type Counts, DEFAULT_COUNTS, type MutateRequest, mutate, Store } from "./store";
import { comparableWall, isZone, wallText } from "./wall";

export interface Faults {
  /** Raw control characters (U+0001, U+001A, U+0000) inside file strings, as bodies were seen to carry. */
  controlChars?: boolean;
  /** The next N API calls answer 429 with no header at all (none are published). */
  rate429?: number;
  /** `links[rel=next]` points at another host. */
  foreignNext?: boolean;
}

export interface SkyslopeSimOptions {
  seed?: number;
  /** The server's zone: the wall clock its offset-less times are written in. */
  timeZone?: string;
  counts?: Partial<Counts>;
  auth?: Partial<AuthConfig>;
  /** Real clock (epoch ms) for logins and sessions; default Date.now. */
  now?: () => number;
  /** Where the data clock starts (ISO); it then runs with the real clock. Default: the real clock. */
  dataClockAt?: string;
  /** Files per page of the file lists (not published; 50 chosen). */
  pageSize?: number;
}

/** Filters that lift `api/files`' default window of files created in the last 7 days. */
const FILE_FILTERS = [
  "modifiedAfter",
  "modifiedBefore",
  "createdAfter",
  "createdBefore",
  "closedAfter",
  "closedBefore",
  "status",
  "email",
  "propertyAddress",
];
const TIME_FILTERS = [
  "modifiedAfter",
  "modifiedBefore",
  "createdAfter",
  "createdBefore",
  "closedAfter",
  "closedBefore",
];

const CONTROL_MARK = /\\u00(01|1a|00)/gi;

export function createSkyslopeSimulator(opts: SkyslopeSimOptions = {}) {
  const zone = opts.timeZone ?? "UTC";
  if (!isZone(zone)) throw new Error(`unknown time zone ${zone}`);
  const realNow = opts.now ?? (() => Date.now());
  const auth: AuthConfig = { ...DEFAULT_AUTH, ...opts.auth };
  const pageSize = opts.pageSize ?? 50;
  let dataOffset = opts.dataClockAt ? Date.parse(opts.dataClockAt) - realNow() : 0;
  const dataNow = () => realNow() + dataOffset;
  const store = new Store(opts.seed ?? 1, zone);
  store.generate({ ...DEFAULT_COUNTS, ...opts.counts }, dataNow());
  const sessions = new Map<string, number>();
  let faults: Faults = {};
  const stats = {
    logins: 0,
    refusedLogins: 0,
    refusedReasons: {} as Record<string, number>,
    calls: 0,
    unauthorized: 0,
    throttled: 0,
  };
  let sessionSeq = 0;

  const app = new Hono();

  /** A JSON body; with the control-character fault, the escapes the data holds go out as raw bytes. */
  const body = (value: unknown, status = 200) => {
    let text = JSON.stringify(value);
    if (faults.controlChars)
      text = text.replace(CONTROL_MARK, (_m, code: string) => String.fromCharCode(Number.parseInt(code, 16)));
    return new Response(text, { status, headers: { "content-type": "application/json; charset=utf-8" } });
  };
  const error = (status: number, message: string) => body({ message }, status);

  app.post("/auth/login", async (c) => {
    const parsed = await c.req.json().catch(() => null);
    const check = await checkLogin(auth, c.req.raw.headers, parsed, realNow());
    if (!check.ok) {
      stats.refusedLogins++;
      stats.refusedReasons[check.reason] = (stats.refusedReasons[check.reason] ?? 0) + 1;
      return error(401, "Unauthorized");
    }
    stats.logins++;
    const session = `sess-${++sessionSeq}-${crypto.randomUUID()}`;
    const expires = realNow() + auth.sessionTtlSec * 1000;
    sessions.set(session, expires);
    // Written like every SkySlope time: the server's wall clock, no offset.
    const s = Math.floor(expires / 1000);
    return body({ Session: session, Expiration: wallText(zone, s, (expires % 1000) * 10_000) });
  });

  app.use("/api/*", async (c, next) => {
    stats.calls++;
    if ((faults.rate429 ?? 0) > 0) {
      faults = { ...faults, rate429: (faults.rate429 ?? 1) - 1 };
      stats.throttled++;
      return new Response("", { status: 429 });
    }
    const session = c.req.header("session") ?? "";
    const until = sessions.get(session);
    if (until === undefined || until <= realNow()) {
      stats.unauthorized++;
      return error(401, "Session is invalid or expired");
    }
    await next();
  });

  /** A page of a list and its `links`, next while more remain (1-based `pageNumber`). */
  const paged = (url: URL, all: Record<string, unknown>[]) => {
    const page = Math.max(1, Number(url.searchParams.get("pageNumber") ?? "1") || 1);
    const value = all.slice((page - 1) * pageSize, page * pageSize);
    const links: { href: string; method: string; rel: string }[] = [];
    const self = new URL(url);
    links.push({ href: self.toString(), method: "GET", rel: "self" });
    if (page * pageSize < all.length) {
      const next = new URL(url);
      next.searchParams.set("pageNumber", String(page + 1));
      if (faults.foreignNext) next.host = "elsewhere.example.net";
      links.push({ href: next.toString(), method: "GET", rel: "next" });
    }
    return body({ value, links });
  };

  app.get("/api/files", (c) => {
    const url = new URL(c.req.url);
    const q = url.searchParams;
    for (const k of TIME_FILTERS) {
      const v = q.get(k);
      if (v !== null && comparableWall(v) === null) return error(400, `Invalid ${k}`);
    }
    const type = (q.get("type") ?? "all").toLowerCase();
    if (!["sale", "listing", "all"].includes(type)) return error(400, "Invalid type");
    let files = store.renderedFiles(type as "sale" | "listing" | "all").map((f) => store.render(f));
    const filtered = FILE_FILTERS.some((k) => q.has(k));
    const wall = (r: Record<string, unknown>, k: string) => comparableWall(String(r[k])) ?? "";
    if (!filtered) {
      // Published: without a filter, only files created in the last 7 days.
      const since = comparableWall(wallText(zone, Math.floor(dataNow() / 1000) - 7 * 86_400, 0)) ?? "";
      files = files.filter((r) => wall(r, "createdOn") > since);
    }
    // The server compares its own wall times: a bound is read as the server's clock, not as UTC.
    const after = (k: string, field: string) => {
      const v = q.get(k);
      if (v !== null) files = files.filter((r) => wall(r, field) > (comparableWall(v) ?? ""));
    };
    const before = (k: string, field: string) => {
      const v = q.get(k);
      if (v !== null) files = files.filter((r) => wall(r, field) < (comparableWall(v) ?? ""));
    };
    after("modifiedAfter", "modifiedOn");
    before("modifiedBefore", "modifiedOn");
    after("createdAfter", "createdOn");
    before("createdBefore", "createdOn");
    const status = q.get("status");
    if (status) files = files.filter((r) => String(r.status).toLowerCase() === status.toLowerCase());
    return paged(url, files);
  });

  for (const kind of ["sale", "listing"] as const) {
    const path = kind === "sale" ? "sales" : "listings";
    app.get(`/api/files/${path}`, (c) => {
      const url = new URL(c.req.url);
      const agent = url.searchParams.get("agentGuid");
      const files = store
        .renderedFiles(kind)
        .map((f) => store.render(f))
        .filter((r) => !agent || r.agentGuid === agent);
      return paged(url, files);
    });
    app.get(`/api/files/${path}/:guid`, (c) => {
      const f = store.b.files.get(c.req.param("guid").toLowerCase());
      if (!f || f.deleted || f.kind !== kind) return error(404, "File not found");
      return body({ value: store.render(f) });
    });
  }

  app.get("/api/users", (c) => {
    const all = c.req.query("includeDeactivated") === "true";
    const office = c.req.query("officeGuid");
    const users = [...store.b.users.values()]
      .filter((u) => (all || !u.deactivated) && (!office || u.fields.officeGuid === office))
      .map((u) => ({ userGuid: u.userGuid, ...u.fields }));
    return body({ value: { users } });
  });
  app.get("/api/users/:guid", (c) => {
    const u = store.b.users.get(c.req.param("guid").toLowerCase());
    if (!u) return error(404, "User not found");
    return body({ value: { user: { userGuid: u.userGuid, ...u.fields } } });
  });
  app.get("/api/offices", () =>
    body({
      value: {
        offices: [...store.b.offices.values()]
          .filter((o) => !o.deleted)
          .map((o) => ({ officeGuid: o.officeGuid, officeName: o.officeName })),
      },
    }),
  );
  app.get("/api/offices/:guid", (c) => {
    const o = store.b.offices.get(c.req.param("guid").toLowerCase());
    if (!o || o.deleted) return error(404, "Office not found");
    return body({ value: { office: { guid: o.officeGuid, name: o.officeName } } });
  });

  // Control plane.
  app.get("/_sim/truth", (c) => c.json(store.truth()));
  app.get("/_sim/stats", (c) =>
    c.json({ ...stats, sessions: sessions.size, dataNow: new Date(dataNow()).toISOString() }),
  );
  app.post("/_sim/mutate", async (c) => {
    const req = (await c.req.json()) as MutateRequest;
    if (!["sale", "listing", "user", "office"].includes(req.kind)) return c.json({ error: "bad kind" }, 400);
    return c.json(mutate(store, req, dataNow()));
  });
  app.post("/_sim/clock", async (c) => {
    const { at } = (await c.req.json()) as { at: string };
    const ms = Date.parse(at);
    if (!Number.isFinite(ms)) return c.json({ error: "bad instant" }, 400);
    dataOffset = ms - realNow();
    return c.json({ dataNow: new Date(dataNow()).toISOString() });
  });
  app.post("/_sim/sessions/expire", (c) => {
    const n = sessions.size;
    sessions.clear();
    return c.json({ expired: n });
  });
  app.post("/_sim/faults", async (c) => {
    faults = (await c.req.json()) as Faults;
    return c.json(faults);
  });
  /** Puts control characters into some files' strings (the fault then sends them raw). */
  app.post("/_sim/hostile", async (c) => {
    const { count } = (await c.req.json()) as { count: number };
    const files = store.renderedFiles("all").slice(0, count);
    for (const [i, f] of files.entries()) {
      const mark = ["\u0001", "\u001a", "\u0000"][i % 3] as string;
      f.fields = { ...f.fields, email: `ctl${mark}file${i}@skyslope.com` };
    }
    return c.json({ files: files.map((f) => f.guid) });
  });
  app.get("/", (c) =>
    c.json({ name: "skyslope-simulator", login: "/auth/login", api: "/api", admin: "/_sim" }),
  );
  app.notFound(() => error(404, "Not found"));

  return {
    app,
    store,
    stats,
    fetch: (req: Request) => app.fetch(req),
    dataNow,
    setFaults(f: Faults) {
      faults = f;
    },
  };
}

export type SkyslopeSimulator = ReturnType<typeof createSkyslopeSimulator>;
