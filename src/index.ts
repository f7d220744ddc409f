import { AccountSync } from "../durable-objects/account-sync";
import { connectorFor } from "./connectors/registry";
import { openDb } from "./db/client";
import type { Env } from "./env";
import { createApp } from "./http/app";
import { handleTransformBatch } from "./pipeline/queue-handler";
import { fanOutDeltaSyncs } from "./sync/fan-out";
import { accountStub } from "./sync/stubs";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    const handle = openDb(env);
    try {
      await fanOutDeltaSyncs(handle.db, (req) => accountStub(env, req.accountId).startSync(req));
    } finally {
      ctx.waitUntil(handle.close());
    }
  },
  async queue(batch, env, ctx) {
    await handleTransformBatch(batch, env, ctx, connectorFor);
  },
} satisfies ExportedHandler<Env, unknown>;

export { AccountSync };
