import { z } from "zod";
import {
  accountBreakerBody,
  connectionBreakerBody,
  createAccountBody,
  createConnectionBody,
  cursorResetBody,
  listAccountsQuery,
  syncBody,
} from "./admin";
import { listQuery, replayBody } from "./failed";
import { oauthCallbackQuery, oauthStartQuery } from "./oauth";
import { runsQuery } from "./runs";

type Operation = {
  method: "get" | "post" | "delete";
  path: string;
  tag: string;
  summary: string;
  body?: z.ZodType;
  query?: z.ZodObject;
  responses: Record<string, string>;
  public?: boolean;
};

const accountErrors = {
  "400": "invalid request (malformed URL or body, NUL or lone surrogate, impossible date, nesting over 32)",
  "401": "no or bad credentials",
  "404": "no such account",
  "413": "body over 64 KB",
};

/**
 * Every route of the Worker, with request schemas taken from the same zod schemas the routes validate with,
 * so the document cannot drift from what the handlers accept (a test also checks every route is listed).
 */
const operations: Operation[] = [
  {
    method: "get",
    path: "/health",
    tag: "system",
    summary: "Liveness with database reachability and the tenancy checks (roles, forced policies, timeouts)",
    public: true,
    responses: {
      "200": "database reachable, every check passed",
      "503": "database unreachable or a check failed (named in `failed`)",
    },
  },
  {
    method: "get",
    path: "/openapi.json",
    tag: "system",
    summary: "This document",
    public: true,
    responses: { "200": "OpenAPI 3.1 document" },
  },
  {
    method: "get",
    path: "/docs",
    tag: "system",
    summary: "Browsable API reference",
    public: true,
    responses: { "200": "HTML page" },
  },
  {
    method: "get",
    path: "/admin/accounts",
    tag: "accounts",
    summary: "List accounts by id (admin token only); `next` is the `after` of the following page",
    query: listAccountsQuery,
    responses: {
      "200": "{ accounts, next }",
      "400": "invalid query",
      "401": "unauthorized",
      "404": "account keys cannot list accounts",
    },
  },
  {
    method: "post",
    path: "/admin/accounts",
    tag: "accounts",
    summary: "Create an account (admin token only); its API key is returned once",
    body: createAccountBody,
    responses: {
      "201": "created, with apiKey",
      "400": "invalid request",
      "401": "unauthorized",
      "403": "account keys cannot create accounts",
      "409": "account exists",
    },
  },
  {
    method: "get",
    path: "/admin/accounts/{accountId}",
    tag: "accounts",
    summary: "An account with its connections",
    responses: { "200": "account", ...accountErrors },
  },
  {
    method: "delete",
    path: "/admin/accounts/{accountId}",
    tag: "accounts",
    summary:
      "Purge an account: its rows in every account table and its object's storage; answers the counts removed. An account key must add ?confirm=<accountId>",
    responses: {
      ...accountErrors,
      "200": "purged, with the rows removed per table",
      "400": "invalid request, or an account key without ?confirm=<accountId>",
    },
  },
  {
    method: "post",
    path: "/admin/accounts/{accountId}/connections",
    tag: "connections",
    summary:
      "Connect a provider; credentials are stored encrypted and never returned. Only the admin token may set id, baseUrl or settings.breaker",
    body: createConnectionBody,
    responses: {
      ...accountErrors,
      "201": "created",
      "403": "an account key set id, baseUrl or settings.breaker",
      "409": "connection exists (admin token only)",
    },
  },
  {
    method: "get",
    path: "/admin/accounts/{accountId}/connections/{connectionId}",
    tag: "connections",
    summary: "A connection (without credentials)",
    responses: { "200": "connection", ...accountErrors },
  },
  {
    method: "delete",
    path: "/admin/accounts/{accountId}/connections/{connectionId}",
    tag: "connections",
    summary:
      "Remove a connection and forget its sync state; an OAuth grant is then revoked at the provider (best effort, bounded; X-OAuth-Revocation: revoked or failed; <reason>)",
    responses: { "204": "deleted", ...accountErrors },
  },
  ...(["get", "post"] as const).map(
    (method): Operation => ({
      method,
      path: "/admin/accounts/{accountId}/connections/{connectionId}/oauth/start",
      tag: "connections",
      summary:
        "Start the OAuth connect flow: the provider's authorize URL with a signed, expiring, single-use state (JSON, or a 302 with ?redirect=true). `new` as the connection id creates one when the callback succeeds; an existing id re-authorises it. ?provider= names the provider of a new connection",
      query: oauthStartQuery,
      responses: {
        ...accountErrors,
        "200": "{authorizeUrl, accountId, connectionId, provider, expiresAt}",
        "302": "redirect to the provider's authorize URL",
        "400": "unknown provider parameter, a provider without OAuth, or no provider for a new connection",
        "409": "the connection belongs to another provider",
        "503": "OAuth is not configured for the provider (client id/secret, state secret)",
      },
    }),
  ),
  {
    method: "get",
    path: "/oauth/callback/{provider}",
    tag: "connections",
    summary:
      "The provider's redirect back (no credentials: the signed state is the proof). Exchanges the code, stores the tokens encrypted on the connection (created or re-authorised, auth_failed cleared) and starts its onboarding sync",
    query: oauthCallbackQuery,
    public: true,
    responses: {
      "200": "connection re-authorised; onboarding started",
      "201": "connection created; onboarding started",
      "400":
        "bad, expired or replayed state, access denied, missing code, or the provider refused the code; nothing stored",
      "404": "unknown provider",
      "409": "the connection id is taken",
      "503": "the provider's token endpoint failed or OAuth is not configured",
    },
  },
  {
    method: "post",
    path: "/admin/accounts/{accountId}/sync",
    tag: "sync",
    summary: "Start delta or onboarding runs for one or all connections and entities",
    body: syncBody,
    responses: { "202": "runs started or already running", ...accountErrors },
  },
  {
    method: "get",
    path: "/admin/accounts/{accountId}/status",
    tag: "sync",
    summary:
      "Every connection and entity: state, lease, breaker, rate budget, progress and ETA, provider vs our counts",
    responses: { "200": "status", ...accountErrors },
  },
  {
    method: "post",
    path: "/admin/accounts/{accountId}/pause",
    tag: "sync",
    summary: "Pause the account's syncs (runs stop at their next step)",
    responses: { "200": "paused", ...accountErrors },
  },
  {
    method: "post",
    path: "/admin/accounts/{accountId}/resume",
    tag: "sync",
    summary: "Resume paused syncs",
    responses: { "200": "resumed", ...accountErrors },
  },
  {
    method: "post",
    path: "/admin/accounts/{accountId}/cursor/reset",
    tag: "sync",
    summary: "Forget an entity's delta cursor (the next delta starts from the beginning)",
    body: cursorResetBody,
    responses: { "200": "reset", "409": "a run is in progress", ...accountErrors },
  },
  {
    method: "post",
    path: "/admin/accounts/{accountId}/breaker",
    tag: "sync",
    summary: "Force a connection's circuit breaker open or closed, or back to automatic",
    body: accountBreakerBody,
    responses: { "200": "breaker state", ...accountErrors },
  },
  {
    method: "post",
    path: "/admin/accounts/{accountId}/connections/{connectionId}/breaker",
    tag: "sync",
    summary: "Same as /breaker, addressed by path",
    body: connectionBreakerBody,
    responses: { "200": "breaker state", ...accountErrors },
  },
  {
    method: "get",
    path: "/admin/accounts/{accountId}/failed",
    tag: "failed records",
    summary: "Records the transform could not take, with their reason (paged)",
    query: listQuery,
    responses: { "200": "page of failed records", ...accountErrors },
  },
  {
    method: "post",
    path: "/admin/accounts/{accountId}/failed/replay",
    tag: "failed records",
    summary: "Send matching failed records through staging again (idempotent)",
    body: replayBody,
    responses: { "202": "replayed", ...accountErrors },
  },
  {
    method: "get",
    path: "/admin/accounts/{accountId}/deletes",
    tag: "deletes",
    summary:
      "Deletes held because a run would remove more than the allowed share (?status=pending|confirmed|rejected)",
    responses: { "200": "held deletes", ...accountErrors },
  },
  {
    method: "post",
    path: "/admin/accounts/{accountId}/deletes/{runId}/{decision}",
    tag: "deletes",
    summary: "Confirm or reject a held delete (decision: confirm | reject)",
    responses: { "200": "decided", "409": "already decided", ...accountErrors },
  },
  {
    method: "get",
    path: "/admin/accounts/{accountId}/runs",
    tag: "runs",
    summary:
      "Run history, newest first: one row per entity of a run, with its trigger, counts and error (paged)",
    query: runsQuery,
    responses: { "200": "page of runs", ...accountErrors },
  },
  {
    method: "get",
    path: "/admin/accounts/{accountId}/runs/{runId}",
    tag: "runs",
    summary: "One run (by run id or history id), one row per entity",
    responses: { "200": "the run", ...accountErrors, "404": "no such account or run" },
  },
  {
    method: "get",
    path: "/admin/accounts/{accountId}/runs/{runId}/logs",
    tag: "runs",
    summary: "A run's log lines (at most 200 per entity kept, then a line counting those dropped)",
    responses: { "200": "log lines", ...accountErrors, "404": "no such account or run" },
  },
  {
    method: "get",
    path: "/admin/alerts",
    tag: "system",
    summary:
      "Alert conditions firing now and recently resolved, with their delivery state (admin token only)",
    responses: {
      "200": "{ firing, recent }",
      "401": "no or bad credentials",
      "404": "not the admin token",
    },
  },
  {
    method: "get",
    path: "/admin/metrics",
    tag: "system",
    summary: "Metrics in Prometheus text format, from durable state (admin token only)",
    responses: {
      "200": "text/plain exposition",
      "401": "no or bad credentials",
      "404": "not the admin token",
    },
  },
  {
    method: "post",
    path: "/webhooks/{provider}/{connectionId}",
    tag: "webhooks",
    summary: "Provider events: signature verified over the raw body, recorded durably before the answer",
    public: true,
    responses: {
      "200": "duplicate, acknowledged with no second effect",
      "202": "recorded",
      "400": "malformed JSON",
      "401": "missing or bad signature, or stale timestamp",
      "404": "unknown provider or connection",
      "413": "body over 1 MB",
      "415": "not application/json",
      "503": "could not record; retry",
    },
  },
];

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });

const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" } },
    },
  },
};

export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    const query = op.query
      ? Object.entries(
          (jsonSchema(op.query) as { properties?: Record<string, unknown> }).properties ?? {},
        ).map(([name, schema]) => ({ name, in: "query", required: false, schema }))
      : [];
    paths[op.path] = {
      ...paths[op.path],
      [op.method]: {
        tags: [op.tag],
        summary: op.summary,
        ...(op.public ? { security: [] } : {}),
        ...(params.length + query.length ? { parameters: [...params, ...query] } : {}),
        ...(op.body
          ? {
              requestBody: {
                required: true,
                content: { "application/json": { schema: jsonSchema(op.body) } },
              },
            }
          : {}),
        responses: Object.fromEntries(
          Object.entries(op.responses).map(([status, description]) => [
            status,
            Number(status) >= 400
              ? {
                  description,
                  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
                }
              : { description },
          ]),
        ),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "edge-etl",
      version: "1.0.0",
      description:
        "Keeps one Postgres in step with real-estate SaaS providers. Admin routes take `Authorization: Bearer` with the admin token (all accounts) or an account API key (its own account only).",
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: { Error: errorSchema },
    },
    security: [{ bearer: [] }],
    paths,
  };
}

/** Method + path pairs the document describes, in Hono's `:param` form, for the completeness test. */
export function documentedRoutes(): string[] {
  return operations.map((op) => `${op.method.toUpperCase()} ${op.path.replace(/\{(\w+)\}/g, ":$1")}`);
}
