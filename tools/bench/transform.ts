/**
 * Transform benchmark: records/s through the queue consumer's code path (transformPages over staged pages:
 * load, validate with zod, map, one jsonb_to_recordset upsert per table, mark done) against the raw upsert
 * throughput of the same Postgres for the same core rows (plain multi-row INSERT ... ON CONFLICT DO UPDATE
 * from Node with `pg`), measured in the same run, for a first load (inserts) and a second pass of newer
 * versions (updates).
 *
 *   npx tsx tools/bench/transform.ts                     # throwaway embedded Postgres
 *   DATABASE_URL=postgres://... npx tsx tools/bench/transform.ts
 *   BENCH_RECORDS=50000 BENCH_BATCH_MESSAGES=20 npx tsx tools/bench/transform.ts
 *
 * The consumer runs on drizzle's node-postgres driver over a `pg` Pool (cast to the Worker's Db type): the
 * SQL is the consumer's own, so the driver and network path are the same as the raw baseline's and the
 * difference is what the consumer does (staging reads, validation, mapping, statement shape). Prints a table
 * and writes bench-results/transform.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { drizzle } from "drizzle-orm/node-postgres";
import type { PgTable } from "drizzle-orm/pg-core";
import pg from "pg";
import { connectorFor } from "../../src/connectors/registry";
import type { Db } from "../../src/db/client";
import * as schema from "../../src/db/schema";
import { transformPages } from "../../src/pipeline/consumer";
import type { TransformMessage } from "../../src/pipeline/messages";
import { stagePage } from "../../src/pipeline/staging";
import { applyMigrations } from "../lib/migrate";
import { ensurePostgres } from "../lib/postgres";
import { createSimulator } from "../simulator/app";
import { rawUpsertStatement } from "./lib/raw-upsert";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 20_000);
const PAGE = 100;
const BATCH_MESSAGES = Number(process.env.BENCH_BATCH_MESSAGES ?? 10);
const RAW_BATCH = Number(process.env.BENCH_RAW_BATCH ?? PAGE * BATCH_MESSAGES);

/**
 * The FUB simulator's own people (BENCH_REALISTIC=1): the records a backfill stages, with their addresses,
 * custom fields and links, instead of the small synthetic person below. A pass bumps `updated` so the second
 * pass is a newer version of every record.
 */
async function simulatorPeople(count: number): Promise<Record<string, unknown>[]> {
  const key = "bench-transform";
  const sim = createSimulator({
    tenants: { [key]: { seed: 7, counts: { people: count }, rateLimit: false } },
  });
  const auth = `Basic ${btoa(`${key}:`)}`;
  const out: Record<string, unknown>[] = [];
  let url: string | null = "http://sim/v1/people?limit=100&sort=id&includeTrash=true";
  while (url && out.length < count) {
    const res = await sim.fetch(new Request(url, { headers: { authorization: auth } }));
    const body = (await res.json()) as {
      people: Record<string, unknown>[];
      _metadata: { nextLink: string | null };
    };
    out.push(...body.people);
    url = body._metadata.nextLink;
  }
  return out.slice(0, count);
}

let realistic: Record<string, unknown>[] | null = null;

function person(id: number, pass: number) {
  const base = realistic?.[id - 1];
  if (base) {
    const updated = new Date(Date.parse(String(base.updated)) + pass * 86_400_000).toISOString();
    return { ...base, id, updated };
  }
  return synthetic(id, pass);
}

function synthetic(id: number, pass: number) {
  const updated = new Date(Date.UTC(2024, 0, 1) + pass * 86_400_000 + id * 1000).toISOString();
  return {
    id,
    created: "2023-06-01T00:00:00Z",
    updated,
    name: `Person ${id} v${pass}`,
    firstName: `Person${id}`,
    lastName: `V${pass}`,
    stage: pass % 2 ? "Lead" : "Active Client",
    stageId: 2,
    source: "Zillow",
    assignedUserId: 1 + (id % 20),
    price: 250_000 + id,
    contacted: id % 2,
    lastActivity: updated,
    tags: ["buyer", `t${id % 7}`],
    emails: [{ value: `p${id}@example.com`, type: "home", isPrimary: 1 }],
    phones: [{ value: `(555) 010-${String(id % 10_000).padStart(4, "0")}`, type: "mobile", isPrimary: 1 }],
  };
}

type Phase = { consumerMs: number; rawMs: number; stageMs: number };

async function consumerPass(db: Db, accountId: string, connectionId: string, pass: number) {
  const runId = `bench-${pass}`;
  const messages: TransformMessage[] = [];
  const stageStart = performance.now();
  for (let start = 1, pageNo = 0; start <= RECORDS; start += PAGE, pageNo++) {
    const records = [];
    for (let id = start; id < start + PAGE && id <= RECORDS; id++) records.push(person(id, pass));
    const key = { accountId, connectionId, provider: "fub", entity: "people", runId, pageNo };
    await stagePage(
      db,
      key,
      records.map((r) => ({ sourceId: String(r.id), op: "upsert" as const, payload: r })),
    );
    messages.push({ v: 1, ...key, records: records.length });
  }
  const stageMs = performance.now() - stageStart;
  const start = performance.now();
  let written = 0;
  for (let i = 0; i < messages.length; i += BATCH_MESSAGES) {
    const result = await transformPages(db, messages.slice(i, i + BATCH_MESSAGES), connectorFor);
    if (result.failed > 0) throw new Error(`unexpected failures: ${result.failed}`);
    written += result.staged;
  }
  if (written !== RECORDS) throw new Error(`transformed ${written} of ${RECORDS}`);
  return { stageMs, consumerMs: performance.now() - start };
}

/** The same core rows the consumer writes, as plain parameterised multi-row upserts. */
async function rawPass(pool: pg.Pool, accountId: string, connectionId: string, pass: number) {
  const entity = connectorFor("fub").entities.people;
  if (!entity) throw new Error("no people entity");
  const byTable = new Map<PgTable, Record<string, unknown>[]>();
  for (let id = 1; id <= RECORDS; id++) {
    for (const w of entity.toCore(person(id, pass), { accountId, connectionId })) {
      const list = byTable.get(w.table) ?? [];
      list.push(w.row);
      byTable.set(w.table, list);
    }
  }
  const client = await pool.connect();
  const start = performance.now();
  try {
    for (let i = 0; i < RECORDS; i += RAW_BATCH) {
      await client.query("begin");
      for (const [table, rows] of byTable) {
        const statement = rawUpsertStatement(table, rows.slice(i, i + RAW_BATCH));
        await client.query(statement.text, statement.values);
      }
      await client.query("commit");
    }
  } finally {
    client.release();
  }
  return performance.now() - start;
}

async function main() {
  if (process.env.BENCH_REALISTIC === "1") realistic = await simulatorPeople(RECORDS);
  const pgHandle = await ensurePostgres({ mode: "test" });
  try {
    await applyMigrations(pgHandle.url);
    const pool = new pg.Pool({ connectionString: pgHandle.url, max: 4 });
    const db = drizzle({ client: pool, schema }) as unknown as Db;
    const version = (await pool.query("show server_version")).rows[0]?.server_version as string;
    const stamp = Date.now().toString(36);
    const phases: Record<"insert" | "update", Phase> = {
      insert: { consumerMs: 0, rawMs: 0, stageMs: 0 },
      update: { consumerMs: 0, rawMs: 0, stageMs: 0 },
    };
    // Warm-up: plans, caches, JIT, on a separate account.
    await consumerPass(db, `bench_warm_${stamp}`, "c", 1).catch(() => {});
    for (const [pass, name] of [
      [1, "insert"],
      [2, "update"],
    ] as const) {
      const consumer = await consumerPass(db, `bench_consumer_${stamp}`, "c", pass);
      const rawMs = await rawPass(pool, `bench_raw_${stamp}`, "c", pass);
      phases[name] = { ...consumer, rawMs };
    }
    await pool.end();

    const perSec = (ms: number) => Math.round((RECORDS / ms) * 1000);
    const rowsOut = (["insert", "update"] as const).map((name) => {
      const p = phases[name];
      return {
        phase: name,
        records: RECORDS,
        stagingRecordsPerSec: perSec(p.stageMs),
        consumerRecordsPerSec: perSec(p.consumerMs),
        rawUpsertRecordsPerSec: perSec(p.rawMs),
        consumerVsRaw: Number((p.rawMs / p.consumerMs).toFixed(2)),
      };
    });
    const machine = {
      cpu: os.cpus()[0]?.model ?? "unknown",
      cores: os.cpus().length,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      postgres: version,
      embedded: pgHandle.embedded,
    };
    console.log(
      `\ntransform benchmark: ${RECORDS} FUB people (${realistic ? "the simulator's" : "synthetic"}) (2 core rows each: fub_people + contacts), ` +
        `${PAGE} per page, ${BATCH_MESSAGES} pages per consumer batch, raw batches of ${RAW_BATCH}`,
    );
    console.log(`machine: ${machine.cpu} x${machine.cores}, ${machine.memoryGb} GB, Postgres ${version}\n`);
    console.table(rowsOut);
    const out = path.resolve("bench-results");
    mkdirSync(out, { recursive: true });
    writeFileSync(
      path.join(out, "transform.json"),
      `${JSON.stringify(
        {
          at: new Date().toISOString(),
          config: { records: RECORDS, pageSize: PAGE, batchMessages: BATCH_MESSAGES, rawBatch: RAW_BATCH },
          driver: "drizzle-orm/node-postgres over pg.Pool (consumer) / pg (raw)",
          machine,
          results: rowsOut,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`\nwrote ${path.join(out, "transform.json")}`);
  } finally {
    await pgHandle.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
