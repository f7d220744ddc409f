import { sql } from "drizzle-orm";
import { withTenant } from "../accounts/tenant";
import type { Db } from "../db/client";
import { sendTransforms, type TransformMessage } from "./messages";
import { stagePage } from "./staging";

export type FailedFilter = {
  entity?: string;
  errorCode?: string;
  connectionId?: string;
  /** On last_seen_at, inclusive from / exclusive to. */
  from?: string;
  to?: string;
};

export type FailedRecordView = {
  id: number;
  connectionId: string;
  provider: string;
  entity: string;
  sourceId: string;
  errorCode: string;
  errorMessage: string;
  attempts: number;
  firstSeenAt: string;
  lastSeenAt: string;
  resolvedAt: string | null;
  payload: unknown;
};

type FailedRow = {
  id: string | number;
  connection_id: string;
  provider: string;
  entity: string;
  source_id: string;
  error_code: string;
  error_message: string;
  attempts: number;
  first_seen_at: string;
  last_seen_at: string;
  resolved_at: string | null;
  payload: unknown;
};

function where(accountId: string, f: FailedFilter, status: "open" | "resolved" | "all") {
  return sql`f.account_id = ${accountId}
    ${status === "open" ? sql`and f.resolved_at is null` : status === "resolved" ? sql`and f.resolved_at is not null` : sql``}
    ${f.entity ? sql`and f.entity = ${f.entity}` : sql``}
    ${f.errorCode ? sql`and f.error_code = ${f.errorCode}` : sql``}
    ${f.connectionId ? sql`and f.connection_id = ${f.connectionId}` : sql``}
    ${f.from ? sql`and f.last_seen_at >= ${f.from}::timestamptz` : sql``}
    ${f.to ? sql`and f.last_seen_at < ${f.to}::timestamptz` : sql``}`;
}

const view = (r: FailedRow): FailedRecordView => ({
  id: Number(r.id),
  connectionId: r.connection_id,
  provider: r.provider,
  entity: r.entity,
  sourceId: r.source_id,
  errorCode: r.error_code,
  errorMessage: r.error_message,
  attempts: r.attempts,
  firstSeenAt: new Date(r.first_seen_at).toISOString(),
  lastSeenAt: new Date(r.last_seen_at).toISOString(),
  resolvedAt: r.resolved_at ? new Date(r.resolved_at).toISOString() : null,
  payload: r.payload,
});

/** Keyset pages by id: stable while new failures arrive, unlike offsets. */
export async function listFailed(
  db: Db,
  accountId: string,
  filter: FailedFilter & { status?: "open" | "resolved" | "all" },
  page: { limit: number; afterId?: number },
): Promise<{ items: FailedRecordView[]; nextAfterId: number | null }> {
  const rows = await withTenant(db, accountId, async (tx) => {
    const result = await tx.execute(sql`
      select f.id, f.connection_id, f.provider, f.entity, f.source_id, f.error_code, f.error_message, f.attempts,
             f.first_seen_at, f.last_seen_at, f.resolved_at, f.payload
      from failed_records f
      where ${where(accountId, filter, filter.status ?? "open")}
        ${page.afterId ? sql`and f.id > ${page.afterId}` : sql``}
      order by f.id
      limit ${page.limit + 1}`);
    return result.rows as FailedRow[];
  });
  const items = rows.slice(0, page.limit).map(view);
  const last = items.at(-1);
  return { items, nextAfterId: rows.length > page.limit && last ? last.id : null };
}

const PAGE = 100;

/**
 * Sends open failed records back through staging under a fresh run (`replay:<uuid>`), as the pull path
 * would: staged pages plus one transform message each. A record that lands is resolved by the consumer; one
 * still bad counts another attempt. Replaying twice stages twice, and the idempotent upsert lands it once.
 */
export async function replayFailed(
  db: Db,
  queue: Queue<TransformMessage>,
  accountId: string,
  filter: FailedFilter & { limit: number },
  newRunId: () => string = () => `replay:${crypto.randomUUID()}`,
): Promise<{ runId: string; records: number; messages: number }> {
  const runId = newRunId();
  const rows = await withTenant(db, accountId, async (tx) => {
    const result = await tx.execute(sql`
      select f.id, f.connection_id, f.provider, f.entity, f.source_id, f.payload
      from failed_records f
      where ${where(accountId, filter, "open")} and f.payload is not null
      order by f.connection_id, f.entity, f.id
      limit ${filter.limit}`);
    return result.rows as Pick<
      FailedRow,
      "id" | "connection_id" | "provider" | "entity" | "source_id" | "payload"
    >[];
  });
  const groups = new Map<string, typeof rows>();
  for (const r of rows) {
    const key = `${r.connection_id}\u0000${r.provider}\u0000${r.entity}`;
    const list = groups.get(key) ?? [];
    list.push(r);
    groups.set(key, list);
  }
  const messages: TransformMessage[] = [];
  for (const list of groups.values()) {
    const first = list[0];
    if (!first) continue;
    for (let start = 0, pageNo = 0; start < list.length; start += PAGE, pageNo++) {
      const slice = list.slice(start, start + PAGE);
      const key = {
        accountId,
        connectionId: first.connection_id,
        provider: first.provider,
        entity: first.entity,
        runId,
        pageNo,
      };
      await withTenant(db, accountId, (tx) =>
        stagePage(
          tx as unknown as Db,
          key,
          // The failed row's source id, not one re-read from the payload: a record that fails again must
          // count against the same failed row.
          slice.map((r) => ({ sourceId: r.source_id, op: "upsert" as const, payload: r.payload })),
        ),
      );
      messages.push({ v: 1, ...key, records: slice.length });
    }
  }
  try {
    await sendTransforms(queue, messages);
  } catch (error) {
    // Unsent pages would sit pending forever; the failures stay open, so the operator can replay again.
    await withTenant(db, accountId, (tx) =>
      tx.execute(
        sql`update stage_records set done_at = now()
            where account_id = ${accountId} and run_id = ${runId} and done_at is null`,
      ),
    );
    throw error;
  }
  return { runId, records: rows.length, messages: messages.length };
}
