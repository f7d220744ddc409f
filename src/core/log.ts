import { configureSync, getConfig, getLogger, type Logger, type LogRecord } from "@logtape/logtape";

/**
 * One structured logger for every runtime (Workers, Node, Bun, Deno): LogTape category loggers under
 * `edge-etl`, written as one JSON object per line. Contexts (`logger.with({ accountId, connectionId, entity,
 * runId })`) put the ids on every line. Callers log ids, counts and safe error messages (safe-error.ts), never
 * a payload, a credential or a raw database message.
 */
export const logger = (...category: string[]): Logger => getLogger(["edge-etl", ...category]);

/** The ids a line is about, where known; undefined ones are left out of the line. */
export type LogContext = { accountId?: string; connectionId?: string; entity?: string; runId?: string };

export function withIds(base: Logger, ids: LogContext): Logger {
  const props: Record<string, string> = {};
  for (const [k, v] of Object.entries(ids)) if (typeof v === "string") props[k] = v;
  return base.with(props);
}

/**
 * One JSON object per line with the properties at the top level (Workers Logs indexes top-level fields, so
 * `accountId` or `runId` can be filtered on), and the message's values as plain text, not quoted.
 */
export function formatLine(record: LogRecord): string {
  const message = record.message
    .map((part, i) => (i % 2 === 0 || typeof part === "string" ? String(part) : safeJson(part)))
    .join("");
  return safeJson({
    ...record.properties,
    time: new Date(record.timestamp).toISOString(),
    level: record.level,
    logger: record.category.join("."),
    message,
  });
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)) ?? String(value);
  } catch {
    return '"[unserializable]"';
  }
}

/** Console method by level, so a platform that files console output by level (Workers Logs) keeps it. */
function consoleSink(record: LogRecord): void {
  const line = formatLine(record);
  if (record.level === "error" || record.level === "fatal") console.error(line);
  else if (record.level === "warning") console.warn(line);
  else console.log(line);
}

/**
 * Sends every `edge-etl` line at `info` and above to the console as JSON. Idempotent: an entry point calls it
 * once per isolate, and a configuration made elsewhere (a test's) is left in place.
 */
export function configureLogging(): void {
  if (getConfig() !== null) return;
  configureSync({
    sinks: { console: consoleSink },
    loggers: [
      { category: ["edge-etl"], lowestLevel: "info", sinks: ["console"] },
      // LogTape's own warnings (a sink that failed) go to the same place.
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}
