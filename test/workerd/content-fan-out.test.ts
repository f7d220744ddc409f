import { runInDurableObject } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { runSyncStep, type StepOutcome } from "../../durable-objects/sync-runner";
import { getSyncState, putSyncState } from "../../durable-objects/sync-state";
import { fub } from "../../src/connectors/fub";
import type { Connector, EntityDef } from "../../src/connectors/types";
import type { TransformMessage } from "../../src/pipeline/messages";
import { withTestDb } from "../support/db";
import { freshRun, fubAccount, stepDeps, stubFor } from "./account-sync-fixtures";

// A child entity versioned by content (no update time) and listed per parent: its runs complete as complete
// scans (what they do not see is deleted), and nothing says which parents' children changed. So a delta lists
// the children of every parent, not only of the parents written since the previous run, which is what a child
// versioned by update time does (parent-fan-out.test.ts). A provider stub answers every parent's list.

const TEXTS = "/v1/textMessages";

function stub() {
  const listed: string[] = [];
  const fetchStub: typeof fetch = async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.pathname !== TEXTS) return fetch(req);
    const personId = url.searchParams.get("personId") ?? "";
    listed.push(personId);
    return Response.json({
      _metadata: { collection: "textMessages", offset: 0, limit: 100, total: 1, next: null },
      textMessages: [{ id: Number(personId) * 100, personId: Number(personId), message: "hi" }],
    });
  };
  return { listed, fetch: fetchStub };
}

function withVersioning(versioning: "updated" | "contentHash", deltaParents?: "changed"): Connector {
  const texts = fub.entities.textMessages as EntityDef;
  const parent = texts.parent ? { ...texts.parent, ...(deltaParents ? { deltaParents } : {}) } : undefined;
  return {
    ...fub,
    entities: { ...fub.entities, textMessages: { ...texts, versioning, ...(parent ? { parent } : {}) } },
  };
}

async function delta(versioning: "updated" | "contentHash", deltaParents?: "changed") {
  const { accountId, connectionId } = await fubAccount();
  // Six parents, all written an hour before the previous run began: none changed since.
  await withTestDb(async (db) => {
    for (let id = 1; id <= 6; id++) {
      await db.execute(sql`
        insert into fub_people (account_id, connection_id, source_id, raw, synced_at)
        values (${accountId}, ${connectionId}, ${id}, ${JSON.stringify({ id })}::jsonb, now() - interval '1 hour')`);
    }
  });
  const s = stub();
  const sent: TransformMessage[] = [];
  const queue = {
    send: async (b: TransformMessage) => void sent.push(b),
    sendBatch: async (batch: Iterable<{ body: TransformMessage }>) => {
      for (const m of batch) sent.push(m.body);
    },
  } as unknown as Queue<TransformMessage>;
  const start = freshRun(connectionId, {
    entity: "textMessages",
    mode: "delta",
    fanOut: null,
    parentWatermark: new Date(Date.now() - 60_000).toISOString(),
  });
  return runInDurableObject(stubFor(accountId), async (_i, ctx) => {
    putSyncState(ctx.storage.sql, start);
    const { deps, close } = await stepDeps(ctx, accountId, connectionId, {
      fetch: s.fetch,
      queue,
      overlapMs: 0,
    });
    deps.connection = { ...deps.connection, connector: withVersioning(versioning, deltaParents) };
    try {
      const outcomes: StepOutcome[] = [];
      for (let i = 0; i < 20; i++) {
        const o = await runSyncStep(deps, "textMessages");
        outcomes.push(o);
        if (o.kind !== "continue") break;
      }
      return {
        outcomes,
        listed: s.listed,
        state: getSyncState(ctx.storage.sql, connectionId, "textMessages"),
      };
    } finally {
      await close();
    }
  });
}

describe("delta fan-out of a child versioned by content", () => {
  it("lists every parent's children, while a child versioned by update time lists only changed parents", async () => {
    const byContent = await delta("contentHash");
    expect(byContent.outcomes.at(-1)?.kind).toBe("completed");
    expect(byContent.listed).toEqual(["1", "2", "3", "4", "5", "6"]);
    expect(byContent.state?.fanOut).toMatchObject({ since: null, parentsDone: 6, parentsTotal: 6 });

    const byTime = await delta("updated");
    expect(byTime.outcomes.at(-1)?.kind).toBe("completed");
    expect(byTime.listed).toEqual([]);

    // A connector whose parents change with their children says so: only changed parents are listed, and the
    // run (with its `since`) is no complete scan.
    const declared = await delta("contentHash", "changed");
    expect(declared.outcomes.at(-1)?.kind).toBe("completed");
    expect(declared.listed).toEqual([]);
    expect(declared.state?.fanOut?.since).toBeTruthy();
  });
});
