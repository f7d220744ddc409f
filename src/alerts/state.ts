import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import type { Firing } from "./rules";

export type AlertView = {
  key: string;
  rule: string;
  subject: string;
  severity: string;
  summary: string;
  value: number;
  threshold: number;
  firingSince: string;
  lastSeenAt: string;
  resolvedAt: string | null;
  lastSentAt: string | null;
  sends: number;
  deliveryFailures: number;
  lastDeliveryError: string | null;
};

type Row = {
  key: string;
  rule: string;
  subject: string;
  severity: string;
  summary: string;
  value: number | string;
  threshold: number | string;
  firing_since: string;
  last_seen_at: string;
  resolved_at: string | null;
  last_sent_at: string | null;
  sends: number;
  delivery_failures: number;
  last_delivery_error: string | null;
};

/** A text[] parameter, passed as one JSON document (any characters an id may hold survive it). */
export const textArray = (values: string[]) =>
  sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`;

const iso = (t: string | null) => (t ? new Date(t).toISOString() : null);

export const alertView = (r: Row): AlertView => ({
  key: r.key,
  rule: r.rule,
  subject: r.subject,
  severity: r.severity,
  summary: r.summary,
  value: Number(r.value),
  threshold: Number(r.threshold),
  firingSince: new Date(r.firing_since).toISOString(),
  lastSeenAt: new Date(r.last_seen_at).toISOString(),
  resolvedAt: iso(r.resolved_at),
  lastSentAt: iso(r.last_sent_at),
  sends: r.sends,
  deliveryFailures: r.delivery_failures,
  lastDeliveryError: r.last_delivery_error,
});

/**
 * Records this evaluation: firing conditions are inserted or refreshed (one that had resolved fires again
 * from now), conditions of the scope no longer firing are resolved. Then claims, in the same statement's
 * transaction, the firing conditions whose cooldown has passed since their last notification: the claim sets
 * `last_sent_at`, so two evaluations running at once never both notify the same condition.
 */
export async function recordEvaluation(
  db: Db,
  firings: Firing[],
  opts: { cooldownMinutes: number; accountIds?: string[] },
): Promise<AlertView[]> {
  const rows = firings.map((f) => ({
    key: f.key,
    rule: f.rule,
    subject: f.subject,
    severity: f.severity,
    summary: f.summary,
    value: f.value,
    threshold: f.threshold,
  }));
  const keys = firings.map((f) => f.key);
  const accounts = opts.accountIds ?? null;
  return db.transaction(async (tx) => {
    if (rows.length > 0)
      await tx.execute(sql`
        insert into alert_state (key, rule, subject, severity, summary, value, threshold)
        select key, rule, subject, severity, summary, value, threshold
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as r(key text, rule text, subject text, severity text, summary text, value float8, threshold float8)
        on conflict (key) do update set summary = excluded.summary, value = excluded.value,
          threshold = excluded.threshold, severity = excluded.severity, last_seen_at = now(),
          firing_since = case when alert_state.resolved_at is null then alert_state.firing_since else now() end,
          resolved_at = null, updated_at = now()`);
    await tx.execute(sql`
      update alert_state set resolved_at = now(), updated_at = now()
      where resolved_at is null and not (key = any(${textArray(keys)}))
        ${accounts ? sql`and split_part(subject, '/', 1) = any(${textArray(accounts)})` : sql``}`);
    if (keys.length === 0) return [];
    const claimed = await tx.execute(sql`
      update alert_state set last_sent_at = now(), updated_at = now()
      where key = any(${textArray(keys)}) and resolved_at is null
        and (last_sent_at is null or last_sent_at <= now() - make_interval(secs => ${opts.cooldownMinutes * 60}))
      returning *`);
    return (claimed.rows as Row[]).map(alertView);
  });
}

/** What a delivery did, kept on the condition so operators see a notification that never arrived. */
export async function recordDelivery(
  db: Db,
  key: string,
  result: { ok: boolean; error?: string },
): Promise<void> {
  await db.execute(
    result.ok
      ? sql`update alert_state set sends = sends + 1, last_delivery_error = null, updated_at = now() where key = ${key}`
      : sql`update alert_state set delivery_failures = delivery_failures + 1,
              last_delivery_error = ${(result.error ?? "failed").slice(0, 200)}, updated_at = now() where key = ${key}`,
  );
}

/** The console's list: every condition firing now, and the most recent resolved ones. */
export async function listAlerts(db: Db, recent = 50): Promise<{ firing: AlertView[]; recent: AlertView[] }> {
  const firing = await db.execute(
    sql`select * from alert_state where resolved_at is null order by firing_since desc, key limit 500`,
  );
  const resolved = await db.execute(
    sql`select * from alert_state where resolved_at is not null order by resolved_at desc, key limit ${recent}`,
  );
  return { firing: (firing.rows as Row[]).map(alertView), recent: (resolved.rows as Row[]).map(alertView) };
}
