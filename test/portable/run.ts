// Runs the portable specs under whatever runtime loaded this file (Bun, Deno, Node via tsx).
import "./all";
import { tests } from "./harness";

type Globals = {
  Bun?: { version: string };
  Deno?: { version: { deno: string }; exit(code: number): never };
  process?: { versions?: { node?: string }; exit(code: number): never; exitCode?: number };
};

const g = globalThis as unknown as Globals;

function runtimeName(): string {
  if (g.Bun) return `bun ${g.Bun.version}`;
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  if (g.process?.versions?.node) return `node ${g.process.versions.node}`;
  return "unknown runtime";
}

let passed = 0;
let failed = 0;
for (const t of tests) {
  try {
    await t.fn();
    passed++;
    console.log(`ok ${t.name}`);
  } catch (error) {
    failed++;
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.log(`FAIL ${t.name}: ${detail}`);
  }
}

console.log(`\n${runtimeName()}: ${passed} passed, ${failed} failed, ${tests.length} total`);

const code = failed > 0 ? 1 : 0;
if (g.Deno) g.Deno.exit(code);
else g.process?.exit(code);
