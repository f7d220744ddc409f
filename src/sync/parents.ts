import { getTableName, type SQL, sql } from "drizzle-orm";
import type { EntityDef } from "../connectors/types";
import type { Db } from "../db/client";
import { tableShape } from "../pipeline/upsert";

/**
 * The parents a per-parent entity's run lists children for: the parent entity's core rows of the connection,
 * in id order. A row kept as deleted because of a provider flag (a trashed person) is still a parent: the
 * provider keeps it and answers for its children. Only ids the provider itself no longer has are left out,
 * those with a `core_tombstones` row of the parent entity (a delete event, an absence from a complete scan
 * or a cascade): listing their children would ask about records that are gone.
 *
 * A parent the provider serves but Postgres could not hold (parked as `unstorable_value`: a NUL or a lone
 * surrogate in one of its strings, nesting too deep) has no core row, yet its id is good and the provider
 * answers for its children: it is a parent too, or one such record (an account's own agent, say) would hold
 * back every entity below it. Only where the children need nothing but its id (no ancestors, no `where`).
 */
export type ParentScope = {
  accountId: string;
  connectionId: string;
  /** The parent entity's declaration (its core table and name). */
  parent: EntityDef;
  /** Only parents whose core row was written at or after this Postgres time, less `overlapMs`. */
  since: string | null;
  /** How far before `since` to look: a transform that began before the watermark may commit after it. */
  overlapMs: number;
  /** Ancestors' ids read with each parent: name → column of the parent's core table (ParentSpec.ancestors). */
  ancestors?: Record<string, string>;
  /** Only parents whose columns hold these values (ParentSpec.where). */
  only?: Record<string, string>;
};

/** One parent of a fan-out: its id and the ancestors' ids a nested child's path needs. */
export type ParentRef = { id: string; ancestors: Record<string, string> };

/** Parent ids read per query. */
export const PARENT_CHUNK = 500;

function where(scope: ParentScope): SQL {
  const since =
    scope.since === null
      ? sql``
      : sql`and c.synced_at >= ${scope.since}::timestamptz - make_interval(secs => ${scope.overlapMs / 1000})`;
  // A parent missing an ancestor's id can't be addressed: it is left out rather than stopping the run on it.
  const addressable = sql.raw(
    Object.values(scope.ancestors ?? {})
      .map((column) => `and c.${quoted(column)} is not null`)
      .join(" "),
  );
  const only = sql.join(
    Object.entries(scope.only ?? {}).map(
      ([column, value]) => sql` and c.${sql.raw(quoted(column))}::text = ${value}`,
    ),
  );
  return sql`c.account_id = ${scope.accountId} and c.connection_id = ${scope.connectionId} ${since} ${addressable} ${only}
    and not exists (
      select 1 from core_tombstones t
      where t.connection_id = c.connection_id and t.entity = ${scope.parent.name}
        and t.source_id = c.source_id::text)`;
}

const table = (scope: ParentScope) => sql.raw(`"${getTableName(scope.parent.coreTable)}"`);

/**
 * Every parent's id, typed as the parent table's `source_id` (so ids order as they do in the table): the core
 * rows, and where only the id is needed, the parked ones (see ParentScope). `union` also drops a parked id
 * whose older version has a core row.
 */
function parentIds(scope: ParentScope): SQL {
  const core = sql`select c.source_id from ${table(scope)} c where ${where(scope)}`;
  if (Object.keys(scope.ancestors ?? {}).length > 0 || Object.keys(scope.only ?? {}).length > 0) return core;
  const type = tableShape(scope.parent.coreTable).sourceIdType;
  // A parked record's id is text; one that is no id of the table's type (a staged placeholder) can't be cast.
  const castable = /int/.test(type) ? sql`and f.source_id ~ '^-?[0-9]{1,18}$'` : sql``;
  const since =
    scope.since === null
      ? sql``
      : sql`and f.last_seen_at >= ${scope.since}::timestamptz - make_interval(secs => ${scope.overlapMs / 1000})`;
  return sql`${core}
    union
    select f.source_id::${sql.raw(type)} from failed_records f
    where f.account_id = ${scope.accountId} and f.connection_id = ${scope.connectionId}
      and f.entity = ${scope.parent.name} and f.resolved_at is null and f.error_code = 'unstorable_value'
      ${castable} ${since}
      and not exists (
        select 1 from core_tombstones t
        where t.connection_id = f.connection_id and t.entity = f.entity and t.source_id = f.source_id)`;
}

/** How many parents the run will list, and the Postgres time it counted them (the run's watermark). */
export async function countParents(db: Db, scope: ParentScope): Promise<{ total: number; at: string }> {
  const result = await db.execute(sql`
    select count(*)::int as n, now()::text as at from (${parentIds(scope)}) p`);
  const row = result.rows[0] as { n: number; at: string };
  return { total: Number(row.n), at: row.at };
}

/** The next chunk of parent ids after `after` (all from the first when null), ascending. */
export async function parentIdsAfter(
  db: Db,
  scope: ParentScope,
  after: string | null,
  limit = PARENT_CHUNK,
): Promise<string[]> {
  const from = after === null ? sql`` : sql`where p.source_id > ${after}`;
  const result = await db.execute(sql`
    select p.source_id::text as id from (${parentIds(scope)}) p ${from}
    order by p.source_id limit ${limit}`);
  return (result.rows as { id: string }[]).map((r) => r.id);
}

/**
 * Whether pages of the parent entity staged within the last `stagedWithinMs` still wait for their transform
 * (their records are not in core yet). Older ones are stuck rather than on their way.
 */
export async function parentPagesPending(
  db: Db,
  scope: { connectionId: string; parentEntity: string; stagedWithinMs: number },
): Promise<boolean> {
  const result = await db.execute(sql`
    select exists (
      -- A page's marker outlives its transform until the re-announce sweep clears it, so the marker only
      -- says where to look: the page is pending while one of its staged upserts is not done.
      select 1 from stage_pending_pages p
      where p.connection_id = ${scope.connectionId} and p.entity = ${scope.parentEntity}
        and p.staged_at > now() - make_interval(secs => ${scope.stagedWithinMs / 1000})
        and exists (
          select 1 from stage_records s
          where s.connection_id = p.connection_id and s.entity = p.entity and s.run_id = p.run_id
            and s.page_no = p.page_no and s.done_at is null and s.op = 'upsert')) as pending`);
  return Boolean((result.rows[0] as { pending: boolean } | undefined)?.pending);
}

const quoted = (column: string) => {
  // Declared names only, but quoted and checked so a declaration can't inject SQL.
  if (!/^[a-z_][a-z0-9_]*$/.test(column)) throw new Error(`invalid ancestor column "${column}"`);
  return `"${column}"`;
};

/** The next chunk of parents after `after` with their ancestors' ids, ascending by id. */
export async function parentsAfter(
  db: Db,
  scope: ParentScope,
  after: string | null,
  limit = PARENT_CHUNK,
): Promise<ParentRef[]> {
  const names = Object.keys(scope.ancestors ?? {});
  if (names.length === 0)
    return (await parentIdsAfter(db, scope, after, limit)).map((id) => ({ id, ancestors: {} }));
  const columns = sql.raw(
    names.map((n, i) => `c.${quoted(scope.ancestors?.[n] ?? "")}::text as a${i}`).join(", "),
  );
  const from = after === null ? sql`` : sql`and c.source_id > ${after}`;
  const result = await db.execute(sql`
    select c.source_id::text as id, ${columns} from ${table(scope)} c where ${where(scope)} ${from}
    order by c.source_id limit ${limit}`);
  return (result.rows as Record<string, string | null>[]).map((r) => {
    const ancestors: Record<string, string> = {};
    names.forEach((n, i) => {
      const v = r[`a${i}`];
      if (v !== null && v !== undefined) ancestors[n] = v;
    });
    return { id: String(r.id), ancestors };
  });
}

/**
 * Reads parent ids in chunks, answering "which parent comes after this one". Ids of one chunk are served from
 * memory; a position outside the chunk (a resumed run) reads the chunk after it.
 */
export function parentCursor(read: (after: string | null) => Promise<string[]>, chunk = PARENT_CHUNK) {
  const refs = parentRefCursor(
    async (after) => (await read(after)).map((id) => ({ id, ancestors: {} })),
    chunk,
  );
  return { after: async (id: string | null) => (await refs.after(id))?.id ?? null };
}

/** parentCursor for parents with their ancestors' ids (nested entities). */
export function parentRefCursor(read: (after: string | null) => Promise<ParentRef[]>, chunk = PARENT_CHUNK) {
  let from: string | null | undefined;
  let refs: ParentRef[] = [];
  let exhausted = false;
  return {
    async after(id: string | null): Promise<ParentRef | null> {
      if (from !== undefined) {
        let i = -1;
        if (id === from) i = 0;
        else if (id !== null) {
          const k = refs.findIndex((r) => r.id === id);
          if (k >= 0) i = k + 1;
        }
        if (i >= 0) {
          if (i < refs.length) return refs[i] ?? null;
          if (exhausted) return null;
        }
      }
      from = id;
      refs = await read(id);
      exhausted = refs.length < chunk;
      return refs[0] ?? null;
    },
  };
}
