import { z } from "zod";

/**
 * The JSON bodies routes answer, for the OpenAPI document. A type test checks each against the type the
 * handler really returns, so a field added or renamed there fails the typecheck until it is described here.
 */

const instant = z.string().meta({ description: "ISO 8601 instant" });
const counts = z.record(z.string(), z.number().int());

export const accountView = z.object({ id: z.string(), name: z.string(), createdAt: instant });

export const connectionView = z.object({
  id: z.string(),
  accountId: z.string(),
  provider: z.string(),
  baseUrl: z.string().nullable(),
  status: z.string().meta({ description: "active, paused, auth_failed, ..." }),
  settings: z.unknown(),
  createdAt: instant,
});

export const createdAccount = z.object({
  account: accountView,
  apiKey: z.string().meta({ description: "the account's API key; shown once, only its hash is stored" }),
});

export const accountWithConnections = accountView.extend({ connections: z.array(connectionView) });

export const accountPurged = z.object({
  accountId: z.string(),
  removed: counts.meta({ description: "rows removed per Postgres table" }),
  objectStorage: counts.meta({ description: "rows removed per table of the account's object storage" }),
});

export const startSyncResult = z.object({
  started: z.array(z.string()).meta({ description: "entities whose run started" }),
  alreadyRunning: z.array(z.string()),
  paused: z.boolean(),
});

export const syncStarted = z.object({ runs: z.array(startSyncResult.extend({ connectionId: z.string() })) });

export const pausedState = z.object({ paused: z.boolean() });

export const breakerView = z.object({ connectionId: z.string(), breaker: z.looseObject({}) });

export const cursorReset = z.object({
  connectionId: z.string(),
  entity: z.string(),
  cursor: z.null(),
  state: z.looseObject({}).nullable().meta({ description: "the entity's sync state after the reset" }),
});

export const accountStatusView = z.looseObject({}).meta({
  description:
    "per connection and entity: state, lease, breaker, rate budget, progress and ETA, provider vs our counts",
});

export const failedRecord = z.object({
  id: z.number().int(),
  connectionId: z.string(),
  provider: z.string(),
  entity: z.string(),
  sourceId: z.string(),
  errorCode: z.string(),
  errorMessage: z.string(),
  attempts: z.number().int(),
  firstSeenAt: instant,
  lastSeenAt: instant,
  resolvedAt: instant.nullable(),
  exhausted: z.boolean().meta({ description: "reached its attempt bound: replay skips it unless forced" }),
  payload: z.unknown(),
});

export const failedPage = z.object({
  items: z.array(failedRecord),
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: "pass as ?cursor= for the next page; null at the end" }),
});

export const replayResult = z.object({
  runId: z.string(),
  records: z.number().int(),
  messages: z.number().int(),
  webhookEvents: z.number().int(),
  exhausted: z.number().int().meta({ description: "matching records skipped at their attempt bound" }),
});

export const heldDelete = z.object({
  runId: z.string(),
  connectionId: z.string(),
  provider: z.string(),
  entity: z.string(),
  mode: z.string(),
  deletes: z.number().int(),
  liveRows: z.number().int(),
  status: z.string(),
  createdAt: instant,
  decidedAt: instant.nullable(),
});

export const heldDeletes = z.object({ items: z.array(heldDelete) });

export const deleteDecision = z.object({
  runId: z.string(),
  status: z.enum(["confirmed", "rejected"]),
  entities: z.array(z.string()),
  deletes: z.number().int(),
});

export const oauthStarted = z.object({
  authorizeUrl: z.string(),
  accountId: z.string(),
  connectionId: z.string(),
  provider: z.string(),
  expiresAt: instant,
});

export const oauthCompleted = z.object({
  accountId: z.string(),
  connectionId: z.string(),
  provider: z.string(),
  created: z.boolean(),
  previousStatus: z.string().nullable(),
  sync: startSyncResult,
});

export const webhookAck = z.object({
  status: z.enum(["accepted", "duplicate"]),
  eventId: z.string(),
});

const check = z.looseObject({ ok: z.boolean() });
export const healthView = z.object({
  status: z.enum(["ok", "degraded"]),
  database: z.enum(["reachable", "unreachable"]),
  latencyMs: z.number().optional(),
  failed: z.array(z.string()).meta({ description: "names of the failed checks" }),
  checks: z.object({ requestRole: check, policies: check, timeouts: check, systemRole: check }).optional(),
});
