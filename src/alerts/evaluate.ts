import type { Db } from "../db/client";
import type { AlertConfig } from "./config";
import { alertPayload, deliverAlert } from "./deliver";
import { evaluateRules, type Firing, type Observations } from "./rules";
import { recordDelivery, recordEvaluation } from "./state";

export type AlertDeps = {
  db: Db;
  config: AlertConfig;
  observe: () => Promise<Observations>;
  /** Where notifications go; absent: conditions are recorded and listed, nothing is sent. */
  target?: { url: string; secret: string };
  fetch: typeof fetch;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  accountIds?: string[];
};

export type AlertReport = { firing: number; notified: number; failed: number };

/**
 * One evaluation: observe, apply the rules, record the conditions (state in Postgres), and notify those whose
 * cooldown has passed. A delivery that exhausts its attempts is recorded on the condition (listed by
 * `/admin/alerts`); it is not retried before the cooldown, so a dead receiver costs one bounded delivery per
 * condition per cooldown.
 */
export async function evaluateAlerts(deps: AlertDeps): Promise<AlertReport> {
  const firings = evaluateRules(await deps.observe(), deps.config, deps.now());
  const byKey = new Map<string, Firing>(firings.map((f) => [f.key, f]));
  const due = await recordEvaluation(deps.db, firings, {
    cooldownMinutes: deps.config.cooldownMinutes,
    ...(deps.accountIds ? { accountIds: deps.accountIds } : {}),
  });
  let notified = 0;
  let failed = 0;
  const target = deps.target;
  if (!target) return { firing: firings.length, notified, failed };
  for (const alert of due) {
    const f = byKey.get(alert.key);
    if (!f) continue;
    // One id per notification (key and the claim's time): the receiver dedupes retries of the same one.
    const id = `alert_${alert.key}_${Date.parse(alert.lastSentAt ?? "") || deps.now()}`;
    const result = await deliverAlert(
      {
        ...target,
        fetch: deps.fetch,
        now: deps.now,
        sleep: deps.sleep,
        attempts: deps.config.deliveryAttempts,
      },
      id,
      alertPayload(f, alert.firingSince),
    );
    await recordDelivery(deps.db, alert.key, result);
    if (result.ok) notified++;
    else failed++;
  }
  return { firing: firings.length, notified, failed };
}
