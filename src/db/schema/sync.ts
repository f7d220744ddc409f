// The sync-state mirrors (`<provider>_sync_state`, `_sync_jobs`, `_onboarding_jobs`) are generated from the
// connector registry by src/sync/mirrors.ts and created by the migration tooling, not declared here.

/** Column prefix of an entity in the per-entity job tables: `textMessages` → `text_messages`. */
export function entityColumnPrefix(entity: string): string {
  return entity.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const IDENT = /^[a-z][a-z0-9_]*$/;

/**
 * A quoted identifier built from the connector registry (`<provider>_sync_state`, `text_messages_status`), checked
 * anyway because it is spliced into SQL.
 */
export function mirrorIdent(name: string): string {
  if (!IDENT.test(name)) throw new Error(`not a safe SQL identifier: ${name}`);
  return `"${name}"`;
}
