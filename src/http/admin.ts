import { Hono } from "hono";
import { z } from "zod";
import {
  createAccount,
  createConnection,
  deleteAccount,
  deleteConnection,
  getAccount,
  getConnectionView,
  listConnections,
} from "../accounts/accounts";
import { connectorFor, knownProviders } from "../connectors/registry";
import { parseKeyring } from "../core/crypto";
import { AppError } from "../core/errors";
import { withDb } from "../db/client";
import type { Env } from "../env";
import { accountStub } from "../sync/stubs";
import { requireAdmin } from "./auth";
import { jsonBody } from "./validate";

const idPattern = /^[A-Za-z0-9_-]{1,64}$/;

const createAccountBody = z.object({
  id: z.string().regex(idPattern).optional(),
  name: z.string().min(1).max(200),
});
const createConnectionBody = z.object({
  id: z.string().regex(idPattern).optional(),
  provider: z.string().refine((p) => knownProviders().includes(p), "unknown provider"),
  credentials: z.record(z.string(), z.string()),
  baseUrl: z.string().url().optional(),
  settings: z.record(z.string(), z.unknown()).optional(),
});
const syncBody = z.object({
  connectionId: z.string().optional(),
  entity: z.string().optional(),
  mode: z.enum(["delta", "onboarding"]),
});

export const admin = new Hono<{ Bindings: Env }>()
  .use("*", requireAdmin)
  .post("/accounts", async (c) => {
    const body = await jsonBody(c, createAccountBody);
    return c.json(await withDb(c.env, (db) => createAccount(db, body)), 201);
  })
  .get("/accounts/:accountId", async (c) => {
    const id = c.req.param("accountId");
    return c.json(
      await withDb(c.env, async (db) => ({
        ...(await getAccount(db, id)),
        connections: await listConnections(db, id),
      })),
    );
  })
  .delete("/accounts/:accountId", async (c) => {
    await withDb(c.env, (db) => deleteAccount(db, c.req.param("accountId")));
    return c.body(null, 204);
  })
  .post("/accounts/:accountId/connections", async (c) => {
    const body = await jsonBody(c, createConnectionBody);
    const keyring = await parseKeyring(c.env.CREDENTIALS_KEY);
    const view = await withDb(c.env, (db) =>
      createConnection(db, keyring, { ...body, accountId: c.req.param("accountId") }),
    );
    return c.json(view, 201);
  })
  .get("/accounts/:accountId/connections/:connectionId", async (c) =>
    c.json(
      await withDb(c.env, (db) =>
        getConnectionView(db, c.req.param("accountId"), c.req.param("connectionId")),
      ),
    ),
  )
  .delete("/accounts/:accountId/connections/:connectionId", async (c) => {
    await withDb(c.env, (db) => deleteConnection(db, c.req.param("accountId"), c.req.param("connectionId")));
    return c.body(null, 204);
  })
  .post("/accounts/:accountId/sync", async (c) => {
    const accountId = c.req.param("accountId");
    const body = await jsonBody(c, syncBody);
    const all = await withDb(c.env, (db) => listConnections(db, accountId));
    const targets = body.connectionId ? all.filter((x) => x.id === body.connectionId) : all;
    if (body.connectionId && targets.length === 0) {
      throw new AppError(404, "connection_not_found", `connection "${body.connectionId}" not found`);
    }
    const stub = accountStub(c.env, accountId);
    const runs = [];
    for (const conn of targets) {
      const entities = Object.keys(connectorFor(conn.provider).entities);
      if (body.entity && !entities.includes(body.entity)) {
        throw new AppError(400, "unknown_entity", `"${body.entity}" is not an entity of ${conn.provider}`);
      }
      const result = await stub.startSync({
        accountId,
        connectionId: conn.id,
        provider: conn.provider,
        entities: body.entity ? [body.entity] : entities,
        mode: body.mode,
      });
      runs.push({ connectionId: conn.id, ...result });
    }
    return c.json({ runs }, 202);
  })
  .get("/accounts/:accountId/status", async (c) => {
    const accountId = c.req.param("accountId");
    const connections = await withDb(c.env, (db) => listConnections(db, accountId));
    const state = await accountStub(c.env, accountId).status();
    return c.json({ accountId, connections, ...state });
  });
