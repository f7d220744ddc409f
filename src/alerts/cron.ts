import { logger } from "../core/log";
import type { Db } from "../db/client";
import { alertConfig } from "./config";
import { type AlertReport, evaluateAlerts } from "./evaluate";
import { observe } from "./observe";

const log = logger("alerts");

/** What the Worker's env gives the alerts (vars and secrets read by name). */
export type AlertEnv = { ALERT_WEBHOOK_URL?: string; ALERT_WEBHOOK_SECRET?: string };

/**
 * The cron's evaluation. Alerting is a bystander of the job it rides on: a failure is logged (its class only)
 * and the job goes on; the next tick evaluates again.
 */
export async function alertsForCron(
  db: Db,
  env: AlertEnv,
  scope: { accountIds?: string[] },
): Promise<AlertReport | null> {
  const config = alertConfig(env);
  const url = env.ALERT_WEBHOOK_URL;
  const secret = env.ALERT_WEBHOOK_SECRET;
  if (url && !secret) log.warn("ALERT_WEBHOOK_URL is set without ALERT_WEBHOOK_SECRET: alerts are not sent");
  try {
    const report = await evaluateAlerts({
      db,
      config,
      observe: () => observe(db, config, scope.accountIds),
      ...(url && secret ? { target: { url, secret } } : {}),
      fetch: (input, init) => fetch(input, init),
      now: Date.now,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      ...(scope.accountIds ? { accountIds: scope.accountIds } : {}),
    });
    if (report.failed > 0) log.warn("alert deliveries failed", { ...report });
    return report;
  } catch (error) {
    log.warn("alert evaluation failed", { error: error instanceof Error ? error.name : "unknown" });
    return null;
  }
}
