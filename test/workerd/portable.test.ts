// Runs the runtime-agnostic specs inside workerd: the same list Bun, Deno and Node run.
import { test } from "vitest";
import "../portable/all";
import { tests } from "../portable/harness";

for (const t of tests) {
  test(t.name, t.fn);
}
