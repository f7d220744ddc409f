import { Hono } from "hono";
import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { getAccount, getConnectionView } from "../accounts/accounts";
import { connectorFor } from "../connectors/registry";
import { AppError } from "../core/errors";
import { withDb } from "../db/client";
import type { Env } from "../env";
import { accountStub } from "../sync/stubs";
import { listInboxEvents } from "../webhooks/inbox";
import { requireAdmin } from "./auth";
import { isCleanText } from "./input";
import { accountErrors, errors, jsonRequest, ok, queryParameters } from "./openapi";
import { jsonBody, queryOf } from "./validate";

export const resyncRecordBody = z.object({
  entity: z.string().min(1).max(64),
  id: z.string().min(1).max(256).refine(isCleanText, "holds control characters"),
});
export const inboxQuery = z.object({
  status: z.enum(["pending", "processed", "parked"]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const INBOX_PATH = "/accounts/:accountId/webhooks";
const RESYNC_PATH = "/accounts/:accountId/connections/:connectionId/records/resync";

const inboxList = z.object({
  items: z.array(z.looseObject({ eventId: z.string(), status: z.string() })),
});
const resyncStaged = z.looseObject({ connectionId: z.string(), entity: z.string(), id: z.string() });

const doc = {
  inbox: describeRoute({
    tags: ["webhooks"],
    summary: "The account's latest webhook deliveries with their status (no payloads)",
    parameters: queryParameters(inboxQuery),
    responses: {
      "200": ok("deliveries", inboxList),
      ...errors({ ...accountErrors, "400": "invalid status or limit" }),
    },
  }),
  resync: describeRoute({
    tags: ["sync"],
    summary: "Fetch one record by its provider id, once, through the breaker and rate budget, and stage it",
    requestBody: jsonRequest(resyncRecordBody),
    responses: {
      "202": ok("staged", resyncStaged),
      ...errors({
        ...accountErrors,
        "400": "invalid body or unknown entity",
        "404": "no such account, connection or provider record",
        "422": "the provider can't fetch this entity by id",
        "502": "the provider answered an error",
        "503": "provider calls held (breaker, rate budget, auth); Retry-After says when",
      }),
    },
  }),
};

/**
 * What the console needs beyond the sync routes: the webhook inbox and one record's resync.
 * Authenticates its own paths only: mounted under /admin, a "*" would check every admin request once more.
 */
export const operator = new Hono<{ Bindings: Env }>()
  .use(INBOX_PATH, requireAdmin)
  .use(RESYNC_PATH, requireAdmin)
  .get(INBOX_PATH, doc.inbox, async (c) => {
    const accountId = c.req.param("accountId");
    const filter = queryOf(inboxQuery, c.req.query());
    const items = await withDb(c.env, async (db) => {
      await getAccount(db, accountId);
      return listInboxEvents(db, accountId, filter);
    });
    return c.json({ items });
  })
  .post(RESYNC_PATH, doc.resync, async (c) => {
    const body = await jsonBody(c, resyncRecordBody);
    const accountId = c.req.param("accountId");
    const conn = await withDb(c.env, async (db) => {
      await getAccount(db, accountId);
      return getConnectionView(db, accountId, c.req.param("connectionId"));
    });
    if (!Object.hasOwn(connectorFor(conn.provider).entities, body.entity)) {
      throw new AppError(400, "unknown_entity", `"${body.entity}" is not an entity of ${conn.provider}`);
    }
    const outcome = await accountStub(c.env, accountId).resyncRecord({
      accountId,
      connectionId: conn.id,
      entity: body.entity,
      sourceId: body.id,
    });
    const base = { connectionId: conn.id, entity: body.entity, id: body.id };
    switch (outcome.status) {
      case "staged":
        return c.json({ ...base, ...outcome }, 202);
      case "not_found":
        throw new AppError(404, "record_not_found", `the provider has no ${body.entity} record "${body.id}"`);
      case "unsupported":
        throw new AppError(422, "not_fetchable_by_id", outcome.note);
      case "parked": {
        const seconds = Math.max(1, Math.ceil((outcome.retryAt - Date.now()) / 1000));
        c.header("Retry-After", String(seconds));
        throw new AppError(503, "provider_held", `not sent (${outcome.reason}); try again in ${seconds} s`);
      }
      default:
        throw new AppError(502, "provider_error", outcome.error);
    }
  });
