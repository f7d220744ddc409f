import { runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { runSyncStep, type StepOutcome } from "../../durable-objects/sync-runner";
import { getSyncState, putSyncState, type SyncState } from "../../durable-objects/sync-state";
import { defineConnector, fieldOf } from "../../src/connectors/define";
import type { EntityDef } from "../../src/connectors/types";
import { type Cursor, overlapStart } from "../../src/core/cursor";
import { fubCalls, fubPeople, fubTextMessages } from "../../src/db/schema";
import type { TransformMessage } from "../../src/pipeline/messages";
import { rows, withTestDb } from "../support/db";
import { freshRun, fubAccount, stepDeps, stubFor } from "./account-sync-fixtures";

// The engine's nested entities against a TEST-ONLY connector and an in-test provider that nests its resources
// the way transaction systems do: profiles → loops → participants (a list) and details (one record), the
// parents' ids in the PATH. A level's parents are core rows: profiles in fub_people, loops in
// fub_text_messages with their profile in person_id (tables borrowed, the declaration says which column).

const PAGE = 2;
const PROFILES = [1, 2, 3];
/** Loops of profile p: p of them, ids p*10+1.. */
const loopsOf = (p: number) => Array.from({ length: p }, (_, j) => p * 10 + j + 1);
const LOOPS = PROFILES.flatMap((p) => loopsOf(p).map((l) => ({ p, l })));
/** Participants of loop l: l % 4 of them (0 to 3: some loops need two pages, some have none). */
const participantsOf = (l: number) => Array.from({ length: l % 4 }, (_, j) => l * 100 + j);

const lenient = <T>(): EntityDef<T>["schema"] =>
  ({ safeParse: (v: unknown) => ({ success: true, data: v }) }) as unknown as EntityDef<T>["schema"];

function entity(fields: Partial<EntityDef> & Pick<EntityDef, "name" | "listPath" | "coreTable">): EntityDef {
  return {
    collectionKey: "data",
    idField: "id",
    incremental: { param: null, cursorField: "updated" },
    schema: lenient(),
    deleteTargets: () => [],
    sourceIdOf: (raw) => {
      const v = fieldOf(raw, fields.idField ?? "id");
      return v === undefined || v === null ? null : String(v);
    },
    cursorOf: (raw) => {
      const updated = fieldOf(raw, "updated");
      const id = fieldOf(raw, "id");
      return typeof updated === "string" && id !== undefined ? { updated, id: String(id) } : null;
    },
    toCore: () => [],
    ...fields,
  };
}

const nested = defineConnector({
  provider: "fub",
  defaultBaseUrl: "http://nested.test",
  auth: { kind: "bearer", tokenField: "apiKey" },
  paging: {
    style: "page-number",
    pageSize: PAGE,
    pageParam: "batch_number",
    sizeParam: "batch_size",
    firstPage: 1,
  },
  rateLimit: {
    limit: 1000,
    windowMs: 60_000,
    headers: { limit: "X-RateLimit-Limit", remaining: "X-RateLimit-Remaining" },
  },
  webhooks: null,
  byIds: null,
  entities: {
    profiles: entity({
      name: "profiles",
      listPath: "/profile",
      coreTable: fubPeople,
      listParams: { filter: "active=true" },
      incremental: {
        param: null,
        cursorField: "updated",
        filter: { param: "filter", template: "updated_min={since}" },
        order: "descending",
      },
    }),
    loops: entity({
      name: "loops",
      listPath: "/profile/{profile_id}/loop",
      coreTable: fubTextMessages,
      parent: { entity: "profiles", pathParam: "profile_id" },
    }),
    participants: entity({
      name: "participants",
      listPath: "/profile/{profile_id}/loop/{loop_id}/participant",
      coreTable: fubCalls,
      parent: {
        entity: "loops",
        pathParam: "loop_id",
        ancestors: { profile_id: "person_id" },
        stamp: { loopId: "loop_id", profileId: "profile_id" },
      },
    }),
    details: entity({
      name: "details",
      listPath: "/profile/{profile_id}/loop/{loop_id}/detail",
      coreTable: fubCalls,
      idField: "loopId",
      single: true,
      parent: {
        entity: "loops",
        pathParam: "loop_id",
        ancestors: { profile_id: "person_id" },
        stamp: { loopId: "loop_id", profileId: "profile_id" },
      },
    }),
  },
});

/** Profiles newest first (the only order the provider offers): profile i updated on day i of 2026. */
const profileUpdated = (i: number) => `2026-03-${String(i).padStart(2, "0")}T00:00:00.000Z`;
const DESC_PROFILES = [5, 4, 3, 2, 1];

type Provider = {
  fetch: typeof fetch;
  /** Path and query of every request, in order. */
  log: string[];
  /** Answer the nth request from now on (1-based) with HTTP 500, once. */
  failAt(n: number): void;
  /** Loops merged into another: their URLs answer 301 to the survivor's. */
  merged: Set<number>;
  /** Origin the 301's Location names (default: none, a path on the API's own origin). */
  redirectOrigin: string;
};

function provider(): Provider {
  let failIn = 0;
  const p: Provider = {
    log: [],
    merged: new Set(),
    redirectOrigin: "",
    failAt(n) {
      failIn = n;
    },
    fetch: async (input, init) => {
      const url = new URL(new Request(input, init).url);
      p.log.push(`${url.pathname}${url.search}`);
      if (failIn > 0 && --failIn === 0) return Response.json({ error: "boom" }, { status: 500 });
      const size = Number(url.searchParams.get("batch_size") ?? PAGE);
      const batch = Number(url.searchParams.get("batch_number") ?? 1);
      const page = <T>(all: T[]) => all.slice((batch - 1) * size, batch * size);
      let m = url.pathname.match(/^\/profile\/(\d+)\/loop\/(\d+)\/(participant|detail)$/);
      if (m) {
        const [p0, l0] = [Number(m[1]), Number(m[2])];
        // A loop asked for under another profile doesn't exist there.
        if (!loopsOf(p0).includes(l0)) return Response.json({ error: "not found" }, { status: 404 });
        if (p.merged.has(l0))
          return new Response(null, {
            status: 301,
            headers: {
              Location: `${p.redirectOrigin}/profile/${p0}/loop/${p0 * 10 + 1}/${m[3]}${url.search}`,
            },
          });
        if (m[3] === "detail") {
          if (url.searchParams.has("batch_size"))
            return Response.json({ error: "no paging" }, { status: 400 });
          return Response.json({ data: { sections: { "Property Address": { City: `City ${l0}` } } } });
        }
        return Response.json({
          data: page(participantsOf(l0)).map((id) => ({ id, fullName: `P${id}`, role: "BUYER" })),
        });
      }
      m = url.pathname.match(/^\/profile\/(\d+)\/loop$/);
      if (m) {
        const p0 = Number(m[1]);
        return Response.json({ data: page(loopsOf(p0)).map((id) => ({ id, profileId: p0 })) });
      }
      if (url.pathname === "/profile") {
        return Response.json({
          data: page(DESC_PROFILES).map((id) => ({ id, updated: profileUpdated(id) })),
        });
      }
      return Response.json({ error: "unknown path" }, { status: 404 });
    },
  };
  return p;
}

function captureQueue() {
  const sent: TransformMessage[] = [];
  const queue = {
    send: async (body: TransformMessage) => {
      sent.push(body);
    },
    sendBatch: async (batch: Iterable<{ body: TransformMessage }>) => {
      for (const m of batch) sent.push(m.body);
    },
  } as unknown as Queue<TransformMessage>;
  return { queue, sent };
}

/** Parent rows as the pipeline leaves them: profiles, and loops carrying their profile's id. */
async function seedParents(accountId: string, connectionId: string) {
  await withTestDb(async (db) => {
    for (const p of PROFILES)
      await db.execute(sql`
        insert into fub_people (account_id, connection_id, source_id, raw, synced_at)
        values (${accountId}, ${connectionId}, ${p}, ${JSON.stringify({ id: p })}::jsonb, now() - interval '1 hour')`);
    for (const { p, l } of LOOPS)
      await db.execute(sql`
        insert into fub_text_messages (account_id, connection_id, source_id, raw, person_id, synced_at)
        values (${accountId}, ${connectionId}, ${l}, ${JSON.stringify({ id: l })}::jsonb, ${p}, now() - interval '1 hour')`);
    // A loop whose profile is unknown can't be addressed: the fan-out leaves it out instead of failing on it.
    await db.execute(sql`
      insert into fub_text_messages (account_id, connection_id, source_id, raw, person_id)
      values (${accountId}, ${connectionId}, 99, '{"id":99}'::jsonb, null)`);
  });
}

async function steps(
  accountId: string,
  connectionId: string,
  entityName: string,
  p: Provider,
  opts: { start?: SyncState; max?: number; pagesPerStep?: number } = {},
) {
  const { queue, sent } = captureQueue();
  return runInDurableObject(stubFor(accountId), async (_i, ctx) => {
    if (opts.start) putSyncState(ctx.storage.sql, opts.start);
    const { deps, close } = await stepDeps(ctx, accountId, connectionId, {
      fetch: p.fetch,
      queue,
      pagesPerStep: opts.pagesPerStep ?? 4,
      readAhead: 1,
      // The Postgres mirror has columns for the real provider's entities only; the object's state is the truth.
      onState: async () => {},
    });
    deps.connection = { ...deps.connection, connector: nested };
    try {
      const outcomes: StepOutcome[] = [];
      for (let i = 0; i < (opts.max ?? 200); i++) {
        const o = await runSyncStep(deps, entityName);
        outcomes.push(o);
        if (o.kind !== "continue") break;
      }
      return { outcomes, state: getSyncState(ctx.storage.sql, connectionId, entityName), sent };
    } finally {
      await close();
    }
  });
}

const start = (connectionId: string, entityName: string, fields: Partial<SyncState> = {}) =>
  freshRun(connectionId, { entity: entityName, fanOut: null, ...fields });

async function stagedOf(connectionId: string, entityName: string, runId: string) {
  return rows<{ source_id: string; payload: Record<string, unknown> }>(sql`
    select source_id, payload from stage_records
    where connection_id = ${connectionId} and entity = ${entityName} and run_id = ${runId}
    order by source_id::bigint`);
}

/** Requests the participants fan-out makes when nothing goes wrong, in order. */
const participantRequests = () =>
  LOOPS.flatMap(({ p, l }) =>
    Array.from(
      { length: Math.floor(participantsOf(l).length / PAGE) + 1 },
      (_, b) => `/profile/${p}/loop/${l}/participant?batch_size=${PAGE}&batch_number=${b + 1}`,
    ),
  );

describe("nested entities (three levels, parents' ids in the path)", () => {
  it("lists every loop's participants under both ancestors' ids, exact, and stamps the parents on each child", async () => {
    const { accountId, connectionId } = await fubAccount();
    await seedParents(accountId, connectionId);
    const p = provider();
    const run = start(connectionId, "participants");
    const r = await steps(accountId, connectionId, "participants", p, { start: run });
    expect(r.outcomes.at(-1)?.kind).toBe("completed");
    expect(p.log).toEqual(participantRequests());
    const staged = await stagedOf(connectionId, "participants", run.runId ?? "");
    const expected = LOOPS.flatMap(({ p: profile, l }) =>
      participantsOf(l).map((id) => ({ id, loopId: String(l), profileId: String(profile) })),
    );
    expect(staged.map((s) => Number(s.source_id))).toEqual(expected.map((e) => e.id));
    expect(
      staged.map((s) => ({ id: s.payload.id, loopId: s.payload.loopId, profileId: s.payload.profileId })),
    ).toEqual(expected);
    expect(r.state?.fanOut?.parentsDone).toBe(LOOPS.length);
    expect(r.state?.fanOut?.parentsTotal).toBe(LOOPS.length);
    expect(r.state?.runRecords).toBe(expected.length);
  });

  it("fetches one detail record per loop, without paging parameters, keyed by the stamped loop id", async () => {
    const { accountId, connectionId } = await fubAccount();
    await seedParents(accountId, connectionId);
    const p = provider();
    const run = start(connectionId, "details");
    const r = await steps(accountId, connectionId, "details", p, { start: run });
    expect(r.outcomes.at(-1)?.kind).toBe("completed");
    expect(p.log).toEqual(LOOPS.map(({ p: profile, l }) => `/profile/${profile}/loop/${l}/detail`));
    const staged = await stagedOf(connectionId, "details", run.runId ?? "");
    expect(staged.map((s) => Number(s.source_id))).toEqual(LOOPS.map(({ l }) => l));
    for (const s of staged) {
      const loop = LOOPS.find(({ l }) => l === Number(s.source_id));
      expect(s.payload).toEqual({
        sections: { "Property Address": { City: `City ${loop?.l}` } },
        loopId: String(loop?.l),
        profileId: String(loop?.p),
      });
    }
    expect(r.sent.reduce((n, m) => n + m.records, 0)).toBe(LOOPS.length);
  });

  it("follows a parent merged away (301) to the survivor's children, stamped as the survivor's", async () => {
    const { accountId, connectionId } = await fubAccount();
    await seedParents(accountId, connectionId);
    const p = provider();
    // Loop 32 was merged into 31 (both of profile 3).
    p.merged.add(32);
    const run = start(connectionId, "details");
    const r = await steps(accountId, connectionId, "details", p, { start: run });
    expect(r.outcomes.at(-1)?.kind).toBe("completed");
    const want = LOOPS.flatMap(({ p: profile, l }) =>
      l === 32
        ? [`/profile/3/loop/32/detail`, `/profile/3/loop/31/detail`]
        : [`/profile/${profile}/loop/${l}/detail`],
    );
    expect(p.log).toEqual(want);
    const staged = await stagedOf(connectionId, "details", run.runId ?? "");
    // 31's detail twice (once as itself, once where 32 was), never one keyed or stamped 32.
    expect(staged.map((s) => Number(s.source_id)).sort((a, b) => a - b)).toEqual(
      [...LOOPS.map(({ l }) => (l === 32 ? 31 : l))].sort((a, b) => a - b),
    );
    for (const s of staged) expect(s.payload.loopId).toBe(s.source_id);
    expect(r.state?.fanOut?.parentsDone).toBe(LOOPS.length);
    expect(r.state?.runRequests).toBe(want.length);
  });

  it("lists a merged parent's paged children at the survivor's, every page stamped with the survivor's ids", async () => {
    const { accountId, connectionId } = await fubAccount();
    await seedParents(accountId, connectionId);
    const p = provider();
    // 23 (three participants: two pages) merged into 21 (one participant); 33 (two) into 31 (three: two pages).
    p.merged.add(23);
    p.merged.add(33);
    const run = start(connectionId, "participants");
    const r = await steps(accountId, connectionId, "participants", p, { start: run, pagesPerStep: 1 });
    expect(r.outcomes.at(-1)?.kind).toBe("completed");
    const staged = await stagedOf(connectionId, "participants", run.runId ?? "");
    const survivor = (l: number) => (l === 23 ? 21 : l === 33 ? 31 : l);
    const expected = LOOPS.flatMap(({ p: profile, l }) =>
      participantsOf(survivor(l)).map((id) => ({
        id,
        loopId: String(survivor(l)),
        profileId: String(profile),
      })),
    ).sort((a, b) => a.id - b.id);
    expect(
      staged
        .map((s) => ({ id: s.payload.id, loopId: s.payload.loopId, profileId: s.payload.profileId }))
        .sort((a, b) => Number(a.id) - Number(b.id)),
    ).toEqual(expected);
    expect(p.log.filter((l) => l.startsWith("/profile/3/loop/31/participant"))).toHaveLength(4);
    expect(r.state?.fanOut?.parentsDone).toBe(LOOPS.length);
  });

  it("does not follow a merged parent's redirect to another origin: that parent's children are skipped", async () => {
    const { accountId, connectionId } = await fubAccount();
    await seedParents(accountId, connectionId);
    const p = provider();
    p.merged.add(32);
    p.redirectOrigin = "https://elsewhere.test";
    const run = start(connectionId, "details");
    const r = await steps(accountId, connectionId, "details", p, { start: run });
    expect(r.outcomes.at(-1)?.kind).toBe("completed");
    expect(p.log).toEqual(LOOPS.map(({ p: profile, l }) => `/profile/${profile}/loop/${l}/detail`));
    const staged = await stagedOf(connectionId, "details", run.runId ?? "");
    expect(staged.map((s) => Number(s.source_id))).toEqual(LOOPS.map(({ l }) => l).filter((l) => l !== 32));
  });

  it("a run cut short in the middle of the fan-out resumes where it stopped: no parent skipped, none listed again", async () => {
    const { accountId, connectionId } = await fubAccount();
    await seedParents(accountId, connectionId);
    const p = provider();
    const run = start(connectionId, "participants");
    // First invocation: three one-page steps, then the object goes away (its in-memory parent cursor with it).
    const first = await steps(accountId, connectionId, "participants", p, {
      start: run,
      max: 3,
      pagesPerStep: 1,
    });
    expect(first.outcomes).toEqual([{ kind: "continue" }, { kind: "continue" }, { kind: "continue" }]);
    expect(first.state?.fanOut?.current).not.toBeNull();
    expect(first.state?.fanOut?.currentAncestors).toBeTruthy();
    // Second invocation: the 2nd request from now fails (HTTP 500); the step stops without moving past it.
    p.failAt(2);
    const second = await steps(accountId, connectionId, "participants", p, { pagesPerStep: 1 });
    expect(second.outcomes.at(-1)?.kind).toBe("failed");
    // Third: on to the end.
    const third = await steps(accountId, connectionId, "participants", p, { pagesPerStep: 3 });
    expect(third.outcomes.at(-1)?.kind).toBe("completed");
    const want = participantRequests();
    // Exactly the uninterrupted sequence, with only the failed request asked twice.
    const failed = want[4] as string;
    expect(p.log).toEqual([...want.slice(0, 5), failed, ...want.slice(5)]);
    const staged = await stagedOf(connectionId, "participants", run.runId ?? "");
    expect(staged.map((s) => Number(s.source_id))).toEqual(LOOPS.flatMap(({ l }) => participantsOf(l)));
    expect(third.state?.fanOut?.parentsDone).toBe(LOOPS.length);
  });
});

describe("incremental filters in the provider's format", () => {
  it("puts the bound inside one parameter's value, joined to the filters already there", () => {
    const profiles = nested.entities.profiles as EntityDef;
    const url = new URL(
      nested.firstPageUrl({
        baseUrl: "http://nested.test",
        entity: profiles,
        mode: "delta",
        since: "2026-03-01T00:00:00.000Z",
      }),
    );
    expect(url.searchParams.getAll("filter")).toEqual(["active=true,updated_min=2026-03-01T00:00:00.000Z"]);
    expect(url.searchParams.has("updated_min")).toBe(false);
    const loops = nested.entities.loops as EntityDef;
    expect(() =>
      nested.firstPageUrl({
        baseUrl: "http://nested.test",
        entity: loops,
        mode: "onboarding",
        since: null,
        parentId: "",
      }),
    ).toThrow(/profile_id/);
  });
});

describe("a provider that lists newest first", () => {
  const old: Cursor = { updated: "2026-02-01T00:00:00.000Z", id: "0" };
  const newest: Cursor = { updated: profileUpdated(5), id: "5" };

  it("keeps the old cursor through a run that fails part-way, and commits the highest seen when a run completes", async () => {
    const { accountId, connectionId } = await fubAccount();
    const p = provider();
    const overlapMs = 60_000;
    const since = overlapStart(old, overlapMs);
    const wire = `/profile?filter=${encodeURIComponent(`active=true,updated_min=${since}`)}&batch_size=${PAGE}`;
    // First page commits; the second fails: the run stops part-way.
    p.failAt(2);
    const run = start(connectionId, "profiles", { mode: "delta", cursor: old });
    const cut = await steps(accountId, connectionId, "profiles", p, { start: run, pagesPerStep: 1 });
    expect(cut.outcomes.map((o) => o.kind)).toEqual(["continue", "failed"]);
    expect(p.log.slice(0, 2)).toEqual([`${wire}&batch_number=1`, `${wire}&batch_number=2`]);
    expect(cut.state?.pageNo).toBe(1);
    expect(cut.state?.cursor).toEqual(old);
    expect(cut.state?.runCursor).toEqual(newest);
    // The run is given up; the next one starts from the old cursor (its filter on the wire says so).
    p.log.length = 0;
    const again = start(connectionId, "profiles", { mode: "delta", cursor: cut.state?.cursor ?? null });
    const done = await steps(accountId, connectionId, "profiles", p, { start: again });
    expect(done.outcomes.at(-1)?.kind).toBe("completed");
    expect(p.log).toEqual([1, 2, 3].map((b) => `${wire}&batch_number=${b}`));
    expect(done.state?.cursor).toEqual(newest);
    expect(done.state?.runCursor).toBeNull();
  });

  it("an onboarding run has no cursor until it completes", async () => {
    const { accountId, connectionId } = await fubAccount();
    const p = provider();
    const run = start(connectionId, "profiles");
    const part = await steps(accountId, connectionId, "profiles", p, { start: run, pagesPerStep: 2, max: 1 });
    expect(part.outcomes).toEqual([{ kind: "continue" }]);
    expect(part.state?.cursor).toBeNull();
    const rest = await steps(accountId, connectionId, "profiles", p, {});
    expect(rest.outcomes.at(-1)?.kind).toBe("completed");
    expect(rest.state?.cursor).toEqual(newest);
    expect(p.log[0]).toBe(`/profile?filter=active%3Dtrue&batch_size=${PAGE}&batch_number=1`);
  });
});
