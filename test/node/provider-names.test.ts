import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { connectorFor, knownProviders } from "../../src/connectors/registry";

// The engine names no provider: a provider is named only in its own connector folder and schema files. Code
// and comments alike, so an engine comment says "a provider that ..." rather than using one as its example.

const ROOT = path.resolve(import.meta.dirname, "../..");
const ENGINE_DIRS = ["src", "durable-objects"];

/**
 * The two files whose job is to list the providers (the connector registry and the schema barrel), and a
 * module another part of the work owns for now; nothing else.
 */
const LISTS_PROVIDERS = new Set([
  "src/connectors/registry.ts",
  "src/db/schema/index.ts",
  "durable-objects/tokens.ts",
]);

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Every registered provider's id and display name, and every provider that has a connector folder. */
function providerNames(): { provider: string; names: string[] }[] {
  const folders = readdirSync(path.join(ROOT, "src/connectors")).filter((f) =>
    statSync(path.join(ROOT, "src/connectors", f)).isDirectory(),
  );
  const providers = [...new Set([...knownProviders(), ...folders])];
  return providers.map((provider) => {
    const displayName = knownProviders().includes(provider)
      ? connectorFor(provider).spec.displayName
      : undefined;
    return { provider, names: [provider, ...(displayName ? [displayName] : [])] };
  });
}

function files(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((f) => {
    const rel = `${dir}/${f}`;
    return statSync(path.join(ROOT, rel)).isDirectory() ? files(rel) : rel.endsWith(".ts") ? [rel] : [];
  });
}

/** A provider's own files: its connector folder and its schema files. */
const ownedBy = (file: string, provider: string) =>
  file.startsWith(`src/connectors/${provider}/`) || file.startsWith(`src/db/schema/${provider}-`);

function offenders(): string[] {
  const providers = providerNames();
  const found: string[] = [];
  for (const file of ENGINE_DIRS.flatMap(files)) {
    if (LISTS_PROVIDERS.has(file)) continue;
    const lines = readFileSync(path.join(ROOT, file), "utf8").split("\n");
    // A provider whose own name contains another's ("Zillow Home Loans") may write its own name in its files.
    const owner = providers.find((p) => ownedBy(file, p.provider));
    const ownName = owner?.names[1]
      ? new RegExp(escapeRegExp(owner.names[1]).replace(/\s+/g, "\\s*"), "gi")
      : null;
    for (const { provider, names } of providers) {
      if (ownedBy(file, provider)) continue;
      // Case-insensitive, any spacing inside a display name ("Follow Up Boss", "FollowUpBoss").
      const pattern = new RegExp(names.map((n) => escapeRegExp(n).replace(/\s+/g, "\\s*")).join("|"), "i");
      lines.forEach((line, i) => {
        const text = ownName ? line.replace(ownName, "") : line;
        if (pattern.test(text)) found.push(`${file}:${i + 1}: ${provider}: ${line.trim()}`);
      });
    }
  }
  return found;
}

describe("provider names in the engine", () => {
  it("knows the names it looks for (every registered provider's id and display name)", () => {
    const names = providerNames().flatMap((p) => p.names);
    expect(names.length).toBeGreaterThanOrEqual(knownProviders().length);
    for (const provider of knownProviders()) {
      expect(names).toContain(provider);
      expect(connectorFor(provider).spec.displayName, `${provider} declares a display name`).toBeTruthy();
    }
  });

  it("finds none outside each provider's own connector and schema files", () => {
    expect(offenders()).toEqual([]);
  });
});
