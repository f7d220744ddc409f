import pg from "pg";
import { signFub } from "../../../src/connectors/fub/signature";
import type { Tenant } from "./backfill";
import type { BenchStack } from "./bench-stack";
import { waitForIdle } from "./idle";
import { type LoadRequest, type LoadResult, percentile, runLoad } from "./load";

export type Backlog = {
  events: number;
  processed: number;
  seconds: number;
  eventsPerSec: number;
  drained: boolean;
};

/** One concurrency level: the bare route and the signed webhooks at the same number of connections. */
export type WebhookLevel = {
  concurrency: number;
  /** how long the bench waited in all for the stack to go quiet before this level's three runs, and whether
   * it did each time */
  idleBeforeMs: number;
  idleReached: boolean;
  /** GET of the bare route: the figure earlier runs compared against */
  bareGet: LoadResult;
  /** the same signed POSTs the webhook run sends, to the bare route: the same bytes in, no work done */
  barePost: LoadResult;
  webhook: LoadResult;
  /** events signed before the clock started (the sender's cost, not ours) */
  presignedEvents: number;
  /** after the ack run: how long until every accepted event was processed (fetched and staged) */
  backlog: Backlog;
};

type Peak = { concurrency: number; rps: number };

export type WebhookBench = {
  levels: WebhookLevel[];
  /** each route's sustained rate: its best over the levels */
  peak: { bareGet: Peak; barePost: Peak; webhook: Peak } | null;
  /** peak webhook / peak bare POST: the same requests, answered with and without the work */
  ackRatio: number | null;
  /** peak webhook / peak bare GET, as measured before the POST baseline */
  ackRatioGet: number | null;
  freshness: { samples: number; timeouts: number; p50Ms: number; p99Ms: number } | null;
  /** set when the Worker has no FUB webhook route: what it answered */
  unavailableReason: string | null;
};

export const BARE_PATH = "/__bench/bare";

function webhookPath(t: Tenant): string {
  return `/webhooks/fub/${t.connectionId}`;
}

type SignedEvent = { body: string; signature: string };

async function signedEvent(b: BenchStack, t: Tenant, id: number): Promise<SignedEvent> {
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
 * Sustained ack rate of signed FUB webhooks against the Worker's bare (404) route, which does no work: each
 * route at every concurrency level, and each route's best rate compared. The bare route gets the same signed
 * POSTs, so both carry the same bytes through the runtime; GET of it is measured too. Then freshness:
 * simulator mutation → webhook → core row.
 */
export async function runWebhookBench(
  b: BenchStack,
  t: Tenant,
  opts: {
    durationMs: number;
    concurrency: number[];
    freshnessSamples: number;
    maxId: number;
    backlogTimeoutMs?: number;
    idleTimeoutMs?: number;
  },
): Promise<WebhookBench> {
  const probe = await signedEvent(b, t, 1);
  const res = await fetch(`${b.stack.workerUrl}${webhookPath(t)}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "FUB-Signature": probe.signature },
    body: probe.body,
  });
  const probeText = await res.text();
  if (res.status === 404 || res.status >= 500 || res.status === 401 || res.status === 400) {
    return {
      levels: [],
      peak: null,
      ackRatio: null,
      ackRatioGet: null,
      freshness: null,
      unavailableReason: `POST ${webhookPath(t)} answered ${res.status} ${probeText.slice(0, 160)}`,
    };
  }
  const freshness = await measureFreshness(b, t, opts.freshnessSamples);
  const levels: WebhookLevel[] = [];
  for (const concurrency of opts.concurrency) levels.push(await runLevel(b, t, { ...opts, concurrency }));
  const best = (pick: (l: WebhookLevel) => LoadResult): Peak =>
    levels
      .map((l) => ({ concurrency: l.concurrency, rps: pick(l).rps }))
      .reduce((a, c) => (c.rps > a.rps ? c : a));
  const peak = {
    bareGet: best((l) => l.bareGet),
    barePost: best((l) => l.barePost),
    webhook: best((l) => l.webhook),
  };
  const ratio = (base: Peak) =>
    base.rps > 0 ? Math.round((peak.webhook.rps / base.rps) * 1000) / 1000 : null;
  return {
    levels,
    peak,
    ackRatio: ratio(peak.barePost),
    ackRatioGet: ratio(peak.bareGet),
    freshness,
    unavailableReason: null,
  };
}

async function runLevel(
  b: BenchStack,
  t: Tenant,
  opts: {
    durationMs: number;
    concurrency: number;
    maxId: number;
    backlogTimeoutMs?: number;
    idleTimeoutMs?: number;
  },
): Promise<WebhookLevel> {
  const load = (next: (seq: number) => LoadRequest | Promise<LoadRequest>) =>
    runLoad({ baseUrl: b.stack.workerUrl, concurrency: opts.concurrency, durationMs: opts.durationMs, next });
  const randomId = () => 1 + Math.floor(Math.random() * opts.maxId);
  const sign = (n: number) => Promise.all(Array.from({ length: n }, () => signedEvent(b, t, randomId())));
  // Every run starts from a quiet stack: whatever ran before (the last level's backlog) is nobody's cost here.
  const waits: { waitedMs: number; idle: boolean }[] = [];
  const quiet = async () => {
    waits.push(await waitForIdle(b, { timeoutMs: opts.idleTimeoutMs }));
  };
  await quiet();
  const bareGet = await load(() => ({ method: "GET", path: BARE_PATH }));
  // The bare route answers without reading them, so any signed bodies do; a pool sized like the GET run.
  const barePool = await sign(Math.ceil(bareGet.requests * 1.25));
  await quiet();
  const barePost = await load((seq) => post(BARE_PATH, barePool[seq % barePool.length] as SignedEvent));
  // The bare POST rate is the likely ceiling; past the pool, events are signed on the fly.
  const presign = Math.ceil(barePost.requests * 1.25);
  const pool = await sign(presign);
  await quiet();
  const since = new Date();
  const loadStart = performance.now();
  const webhook = await load(async (seq) =>
    post(webhookPath(t), pool[seq] ?? (await signedEvent(b, t, randomId()))),
  );
  const backlog = await waitForBacklog(b, t, {
    since,
    accepted: webhook.statuses["202"] ?? 0,
    startedMs: loadStart,
    timeoutMs: opts.backlogTimeoutMs ?? 180_000,
  });
  return {
    concurrency: opts.concurrency,
    idleBeforeMs: waits.reduce((sum, w) => sum + w.waitedMs, 0),
    idleReached: waits.every((w) => w.idle),
    bareGet,
    barePost,
    webhook,
    presignedEvents: presign,
    backlog,
  };
}

const post = (path: string, e: SignedEvent): LoadRequest => ({
  method: "POST",
  path,
  headers: { "Content-Type": "application/json", "FUB-Signature": e.signature },
  body: e.body,
});

/**
 * Counts the connection's inbox rows received since the ack run began until all the accepted events are
 * processed. Seconds are measured from the start of the ack run, so eventsPerSec is the sustained processing
 * rate, which the provider's rate budget bounds.
 */
async function waitForBacklog(
  b: BenchStack,
  t: Tenant,
  opts: { since: Date; accepted: number; startedMs: number; timeoutMs: number },
): Promise<Backlog> {
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

export async function measureFreshness(b: BenchStack, t: Tenant, samples: number) {
  const { times, timeouts } = await freshnessTimes(b, t, samples);
  times.sort((a, c) => a - c);
  return {
    samples: times.length,
    timeouts,
    p50Ms: Math.round(percentile(times, 0.5)),
    p99Ms: Math.round(percentile(times, 0.99)),
  };
}

/** Each sample: a person changed in the provider (which sends its webhook) until the change is in core. */
export async function freshnessTimes(b: BenchStack, t: Tenant, samples: number) {
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
  return { times, timeouts };
}
