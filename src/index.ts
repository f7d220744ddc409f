import { AccountSync } from "../durable-objects/account-sync";
import { RateBudget } from "../durable-objects/rate-budget";
import { connectorFor } from "./connectors/registry";
import { configureLogging } from "./core/log";
import type { Env } from "./env";
import { createApp } from "./http/app";
import { handleTransformBatch } from "./pipeline/queue-handler";
import { runCron } from "./sync/cron";

// Before anything logs: JSON lines for Workers Logs, for the Worker and the objects of this isolate alike.
configureLogging();

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    await runCron(controller.cron, env, ctx, {}, controller.scheduledTime);
  },
  async queue(batch, env, ctx) {
    await handleTransformBatch(batch, env, ctx, connectorFor);
  },
} satisfies ExportedHandler<Env, unknown>;

export { AccountSync, RateBudget };
