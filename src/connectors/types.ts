import type { PgTable } from "drizzle-orm/pg-core";
import type { z } from "zod";
import type { Cursor } from "../core/cursor";

/** Where a core row comes from; every core row carries it. */
export type SourceContext = { accountId: string; connectionId: string };

/** One row for one core table, keyed by the table's (account, connection, source id) natural key. */
export type CoreWrite = { table: PgTable; row: Record<string, unknown> };

export type SyncMode = "onboarding" | "delta";

/**
 * One syncable resource of a provider, declared as data: where it is listed, how a record is validated,
 * how its version is read, and which core rows it becomes.
 */
export interface EntityDef<T = unknown> {
  name: string;
  /** Path of the list endpoint, relative to the connection's base URL. */
  listPath: string;
  /** Key of the records array in a list response. */
  collectionKey: string;
  schema: z.ZodType<T>;
  /**
   * Lenient reads used before validation (staging, cursors): a malformed record must still be staged so the
   * transform stage can route it to failed_records with its reason.
   */
  sourceIdOf(raw: unknown): string | null;
  cursorOf(raw: unknown): Cursor | null;
  toCore(record: T, source: SourceContext): CoreWrite[];
}

export type RateLimitPolicy = {
  limit: number;
  windowMs: number;
  headers: { limit: string; remaining: string; window?: string; reset?: string };
};

export type Page = { records: unknown[]; nextUrl: string | null; total: number | null };

export interface Connector {
  provider: string;
  defaultBaseUrl: string;
  entities: Record<string, EntityDef>;
  rateLimit(credentials: Credentials): RateLimitPolicy;
  /** Headers that authenticate a request. */
  authHeaders(credentials: Credentials): Record<string, string>;
  /** URL of the first page of a run; later pages come from the previous page's nextUrl. */
  firstPageUrl(args: { baseUrl: string; entity: EntityDef; mode: SyncMode; since: string | null }): string;
  parsePage(body: unknown, entity: EntityDef, requestUrl: string): Page;
}

/** Decrypted credentials of a connection; shape is provider-specific and never logged. */
export type Credentials = Record<string, string>;
