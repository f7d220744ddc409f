import type { AuthSpec, Credentials } from "./types";

function credential(c: Credentials, field: string): string {
  const v = c[field];
  // The message names the field, never a value: errors end up in logs and sync state.
  if (typeof v !== "string" || v === "") throw new Error(`connection credentials lack "${field}"`);
  return v;
}

/** Optional headers (header name → credential field) are sent only when the credential exists. */
function extras(spec: AuthSpec, c: Credentials): Record<string, string> {
  const out: Record<string, string> = {};
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
    case "bearer":
      return { Authorization: `Bearer ${credential(c, spec.tokenField)}`, ...extras(spec, c) };
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

export function authorizeUrl(spec: AuthSpec, url: string, c: Credentials): string {
  if (spec.kind !== "query") return url;
  const u = new URL(url);
  u.searchParams.set(spec.param, credential(c, spec.keyField));
  return u.toString();
}
