import type { Authenticated, AuthSource, AuthSpec, Credentials } from "./types";

function credential(c: Credentials, field: string): string {
  const v = c[field];
  // The message names the field, never a value: errors end up in logs and sync state.
  if (typeof v !== "string" || v === "") throw new Error(`connection credentials lack "${field}"`);
  return v;
}

/** Optional headers (header name → credential field) are sent only when the credential exists. */
function extras(spec: AuthSpec, c: Credentials): Record<string, string> {
  const out: Record<string, string> = { ...(spec.fixedHeaders ?? {}) };
  for (const [header, field] of Object.entries(spec.extraHeaders ?? {})) {
    const v = c[field];
    if (typeof v === "string" && v !== "") out[header] = v;
  }
  return out;
}

export function authHeaders(spec: AuthSpec, c: Credentials): Record<string, string> {
  switch (spec.kind) {
    case "apiKeyBasic":
      return { Authorization: `Basic ${btoa(`${credential(c, spec.keyField)}:`)}`, ...extras(spec, c) };
    case "bearer": {
      const key = keyAlternative(spec, c);
      if (key) return { ...key, ...extras(spec, c) };
      return { Authorization: `Bearer ${credential(c, spec.tokenField)}`, ...extras(spec, c) };
    }
    case "header":
      return {
        [spec.header]: spec.prefix
          ? `${spec.prefix} ${credential(c, spec.keyField)}`
          : credential(c, spec.keyField),
        ...extras(spec, c),
      };
    case "query":
      return extras(spec, c);
    case "session":
      return { [spec.header]: credential(c, spec.sessionField), ...extras(spec, c) };
  }
}

/** The personal-key header of a bearer connection that holds a key instead of a token; null otherwise. */
function keyAlternative(spec: AuthSpec & { kind: "bearer" }, c: Credentials): Record<string, string> | null {
  const alt = spec.keyAlternative;
  const key = alt ? c[alt.keyField] : undefined;
  if (!alt || typeof key !== "string" || key === "") return null;
  return { [alt.header]: alt.prefix ? `${alt.prefix} ${key}` : key };
}

export function authorizeUrl(spec: AuthSpec, url: string, c: Credentials): string {
  if (spec.kind !== "query") return url;
  const u = new URL(url);
  u.searchParams.set(spec.param, credential(c, spec.keyField));
  return u.toString();
}

/** Whether the connection's secret is one the engine renews (so a 401 is worth one renewal and one retry). */
export function renewsOn401(spec: AuthSpec): boolean {
  return (spec.kind === "bearer" && spec.oauth !== undefined) || spec.kind === "session";
}

/**
 * The asynchronous auth step: OAuth bearer tokens and sessions come from `source` (kept fresh, single-flight,
 * by the engine); every other kind is the static headers.
 */
export async function authenticate(
  spec: AuthSpec,
  c: Credentials,
  source: AuthSource,
  refused?: string,
): Promise<Authenticated> {
  if (spec.kind === "bearer" && spec.oauth && !keyAlternative(spec, c)) {
    const token = await source.accessToken(refused);
    return { headers: { Authorization: `Bearer ${token}`, ...extras(spec, c) }, secret: token };
  }
  if (spec.kind === "session") {
    const session = await source.session(refused);
    return { headers: { [spec.header]: session, ...extras(spec, c) }, secret: session };
  }
  return { headers: authHeaders(spec, c), secret: null };
}
