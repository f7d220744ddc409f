import { z } from "zod";
import type { Cursor } from "../../core/cursor";

/** FUB timestamps are ISO-8601 strings; anything Date can't read is a malformed record, not a crash. */
export const fubTimestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "not an ISO timestamp");

function field(raw: unknown, key: string): unknown {
  return raw && typeof raw === "object" ? (raw as Record<string, unknown>)[key] : undefined;
}

export function fubIdOf(raw: unknown): string | null {
  const id = field(raw, "id");
  return typeof id === "number" || typeof id === "string" ? String(id) : null;
}

export function fubCursorOf(raw: unknown): Cursor | null {
  const id = fubIdOf(raw);
  const updated = field(raw, "updated");
  if (id === null || typeof updated !== "string" || Number.isNaN(Date.parse(updated))) return null;
  return { updated: new Date(updated).toISOString(), id };
}
