import pg from "pg";
import { signFub } from "../../../src/core/signatures";
import type { Tenant } from "./backfill";
import type { BenchStack } from "./bench-stack";
import { waitForIdle } from "./idle";
import { type LoadResult, percentile, runLoad } from "./load";

export type WebhookBench = {
  bare: LoadResult;
  /** null when the Worker has no FUB webhook route (then `unavailableReason` says what it answered) */
  webhook: LoadResult | null;
  ackRatio: number | null;
  freshness: { samples: number; timeouts: number; p50Ms: number; p99Ms: number } | null;
  unavailableReason: string | null;
  concurrency: number;
  /** how long the bench waited for the stack to go quiet before the bare run, and whether it did */
  idleBeforeMs: number;
  idleReached: boolean;
  /** signed before the clock started (the sender's cost, not ours) */
  presignedEvents: number;
  /** after the ack run: how long until every accepted event was processed (fetched and staged) */
  backlog: {
    events: number;
    processed: number;
    seconds: number;
    eventsPerSec: number;
    drained: boolean;
  } | null;
};

export const BARE_PATH = "/__bench/bare";

function webhookPath(t: Tenant): string {
  return `/webhooks/fub/${t.connectionId}`;
}

async function signedEvent(b: BenchStack, t: Tenant, id: number) {
  const body = JSON.stringify({
    eventId: crypto.randomUUID(),
    eventCreated: `${new Date().toISOString().slice(0, 19)}+00:00`,
    event: "peopleUpdated",
    resourceIds: [id],
    uri: `${b.stack.simulatorUrl}/v1/people/${id}`,
  });
  return { body, signature: await signFub(body, t.systemKey) };
}

/**
 * Ack throughput/latency of signed FUB webhooks against the Worker's 404 route (no Postgres, no DO: the
 * cheapest answer the same Worker gives), then freshness: simulator mutation → webhook → core row.
 */
export async function runWebhookBench(
  b: BenchStack,
  t: Tenant,
  opts: {
    durationMs: number;
    concurrency: number;
    freshnessSamples: number;
    maxId: number;
    backlogTimeoutMs?: number;
  },
): Promise<WebhookBench> {
  const base = b.stack.workerUrl;
  // Both runs start from a quiet stack: whatever the phases before left running is nobody's cost here.
  const idle = await waitForIdle(b);
  const bare = await runLoad({
    baseUrl: base,
    concurrency: opts.concurrency,
    durationMs: opts.durationMs,
    next: () => ({ method: "GET", path: BARE_PATH }),
  });

  const probe = await signedEvent(b, t, 1);
  const res = await fetch(`${base}${webhookPath(t)}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "FUB-Signature": probe.signature },
    body: probe.body,
  });
  const probeText = await res.text();
  if (res.status === 404 || res.status >= 500 || res.status === 401 || res.status === 400) {
    return {
      bare,
      webhook: null,
      ackRatio: null,
      freshness: null,
      unavailableReason: `POST ${webhookPath(t)} answered ${res.status} ${probeText.slice(0, 160)}`,
      concurrency: opts.concurrency,
      idleBeforeMs: idle.waitedMs,
      idleReached: idle.idle,
      presignedEvents: 0,
      backlog: null,
    };
  }

  const freshness = await measureFreshness(b, t, opts.freshnessSamples);
  // The bare run's count is the likely ceiling; past it, events are signed on the fly.
  const presign = Math.ceil(bare.requests * 1.25);
  const since = new Date();
  const loadStart = performance.now();
  const webhook = await runWebhookLoad(b, t, { ...opts, presign });
  const backlog = await waitForBacklog(b, t, {
    since,
    accepted: webhook.statuses["202"] ?? 0,
    startedMs: loadStart,
    timeoutMs: opts.backlogTimeoutMs ?? 180_000,
  });
  return {
    bare,
    webhook,
    ackRatio: bare.rps > 0 ? Math.round((webhook.rps / bare.rps) * 1000) / 1000 : null,
    freshness,
    unavailableReason: null,
    concurrency: opts.concurrency,
    idleBeforeMs: idle.waitedMs,
    idleReached: idle.idle,
    presignedEvents: presign,
    backlog,
  };
}

/**
 * Counts the connection's inbox rows received since the ack run began until all the accepted events are
 * processed. Seconds are measured from the start of the ack run, so eventsPerSec is the sustained processing
 * rate, which the provider's rate budget bounds.
 */
async function waitForBacklog(
  b: BenchStack,
  t: Tenant,
  opts: { since: Date; accepted: number; startedMs: number; timeoutMs: number },
) {
  const client = new pg.Client({ connectionString: b.cluster.url });
  await client.connect();
  let processed = 0;
  let drained = false;
  try {
    const deadline = performance.now() + opts.timeoutMs;
    while (performance.now() < deadline) {
      const r = await client.query<{ processed: number }>(
        `/* bench */ select count(*) filter (where status = 'processed')::int as processed from webhook_inbox
         where connection_id = $1 and received_at >= $2`,
        [t.connectionId, opts.since],
      );
      processed = r.rows[0]?.processed ?? 0;
      if (processed >= opts.accepted) {
        drained = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await client.end();
  }
  const seconds = Math.round((performance.now() - opts.startedMs) / 100) / 10;
  return {
    events: opts.accepted,
    processed,
    seconds,
    eventsPerSec: Math.round((processed / seconds) * 10) / 10,
    drained,
  };
}

/**
 * Signed FUB webhooks, each a new event, for `durationMs`. The events are signed before the clock starts:
 * the generator shares the machine with the Worker, and signing is the sender's cost, not ours. Past the
 * `presign` pool it signs on the fly.
 */
async function runWebhookLoad(
  b: BenchStack,
  t: Tenant,
  opts: { durationMs: number; concurrency: number; maxId: number; presign: number },
): Promise<LoadResult> {
  const randomId = () => 1 + Math.floor(Math.random() * opts.maxId);
  const pool = await Promise.all(Array.from({ length: opts.presign }, () => signedEvent(b, t, randomId())));
  const request = (e: { body: string; signature: string }) => ({
    method: "POST",
    path: webhookPath(t),
    headers: { "Content-Type": "application/json", "FUB-Signature": e.signature },
    body: e.body,
  });
  return runLoad({
    baseUrl: b.stack.workerUrl,
    concurrency: opts.concurrency,
    durationMs: opts.durationMs,
    next: async (seq) => request(pool[seq] ?? (await signedEvent(b, t, randomId()))),
  });
}

/** Registers the Worker as the tenant's webhook target in the simulator (as FUB's POST /v1/webhooks does). */
async function registerWebhook(b: BenchStack, t: Tenant, event: string): Promise<void> {
  const res = await fetch(`${b.stack.simulatorUrl}/v1/webhooks`, {
    method: "POST",
    headers: {
      Authorization: `Basic ${btoa(`${t.apiKey}:`)}`,
      "X-System": "edge-etl-bench",
      "X-System-Key": t.systemKey,
      "Content-Type": "application/json",
    },
    body: JSON.stringify({ event, url: `${b.stack.workerUrl}${webhookPath(t)}` }),
  });
  if (!res.ok) throw new Error(`registering the ${event} webhook → ${res.status} ${await res.text()}`);
}

async function measureFreshness(b: BenchStack, t: Tenant, samples: number) {
  await registerWebhook(b, t, "peopleUpdated");
  const client = new pg.Client({ connectionString: b.cluster.url });
  await client.connect();
  const times: number[] = [];
  let timeouts = 0;
  try {
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      const m = (await b.sim.mutate(t.apiKey, { entity: "people", updates: 1 })) as {
        updated: number[];
        at: string;
      };
      const id = m.updated[0];
      if (id === undefined) continue;
      const deadline = Date.now() + 30_000;
      let seen = false;
      while (Date.now() < deadline) {
        const r = await client.query(
          `/* bench */ select 1 as bench_seen from fub_people
           where account_id = $1 and source_id = $2 and source_updated_at >= $3::timestamptz`,
          [t.accountId, id, m.at],
        );
        if (r.rowCount) {
          seen = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      if (seen) times.push(performance.now() - t0);
      else timeouts++;
      // Successive mutations land in distinct seconds so each has a newer `updated` than the last.
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await client.end();
  }
  times.sort((a, c) => a - c);
  return {
    samples: times.length,
    timeouts,
    p50Ms: Math.round(percentile(times, 0.5)),
    p99Ms: Math.round(percentile(times, 0.99)),
  };
}
