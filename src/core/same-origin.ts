/**
 * Whether `url` is on `base`'s origin. A connection's credentials go only to its own API origin, whatever a
 * payload, a next link or a redirect names; anything unparseable is not the same origin.
 */
export function sameOrigin(url: string, base: string): boolean {
  try {
    return new URL(url).origin === new URL(base).origin;
  } catch {
    return false;
  }
}
