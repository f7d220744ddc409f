// A dependency-free test registry and assertions, so the same specs run under
// vitest (Node and workerd), Bun and Deno without any runtime's assert module.

export type TestCase = { name: string; fn: () => void | Promise<void> };

export const tests: TestCase[] = [];

export function test(name: string, fn: () => void | Promise<void>): void {
  tests.push({ name, fn });
}

export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

function show(value: unknown): string {
  try {
    return (
      JSON.stringify(value, (_k, v: unknown) => (v instanceof Map ? [...v.entries()] : v)) ?? String(value)
    );
  } catch {
    return String(value);
  }
}

export function assertTrue(condition: unknown, message = "expected a truthy value"): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function assertEqual<T>(actual: T, expected: T, message?: string): void {
  if (!Object.is(actual, expected)) {
    throw new AssertionError(
      `${message ? `${message}: ` : ""}expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !deepEqual(v, b.get(k))) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const rb = b as Record<string, unknown>;
  const ra = a as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(rb, k) && deepEqual(ra[k], rb[k]));
}

export function assertDeepEqual(actual: unknown, expected: unknown, message?: string): void {
  if (!deepEqual(actual, expected)) {
    throw new AssertionError(
      `${message ? `${message}: ` : ""}expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

/** Resolves to the rejection reason so callers can inspect it. */
export async function assertRejects(
  fn: () => Promise<unknown>,
  check?: (error: unknown) => boolean,
  message = "expected the promise to reject",
): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    if (check && !check(error))
      throw new AssertionError(`${message}: rejected with unexpected ${String(error)}`);
    return error;
  }
  throw new AssertionError(message);
}
