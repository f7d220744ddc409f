// Helpers for fetching what a webhook event names (the event itself is resolved by the connector).

/** The records of a fetched `uri`: a provider may answer one record for `/people/1`, a list for `/people?id=1,2`. */
export function recordsOfResponse(body: unknown, collectionKey: string): unknown[] {
  if (!body || typeof body !== "object") return [];
  const list = (body as Record<string, unknown>)[collectionKey];
  if (Array.isArray(list)) return list;
  return "id" in body ? [body] : [];
}
