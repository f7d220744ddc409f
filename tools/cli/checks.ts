import { printable } from "./errors";
import { num, table } from "./table";

/**
 * A consistency check's answer is `{check, ok, ...}`: each finding group is `{count, sample[]}` under a name of
 * the connector's choosing, so the groups are found by shape, never by name; any other field is a plain fact.
 */
export type CheckResult = { check: string; ok: boolean; [k: string]: unknown };
export type FindingGroup = { name: string; count: number; sample: Record<string, unknown>[] };

export function findingGroups(result: CheckResult): FindingGroup[] {
  const groups: FindingGroup[] = [];
  for (const [name, v] of Object.entries(result)) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) continue;
    const g = v as { count?: unknown; sample?: unknown };
    if (typeof g.count !== "number" || !Array.isArray(g.sample)) continue;
    const sample = g.sample.filter((r): r is Record<string, unknown> => typeof r === "object" && r !== null);
    groups.push({ name, count: g.count, sample });
  }
  return groups;
}

const cellText = (v: unknown) =>
  printable(v === null || v === undefined ? "-" : typeof v === "object" ? JSON.stringify(v) : String(v), 80);

/** "OK", or each group's count and its sample as a table (the other fields as `name: value` lines). */
export function renderCheck(result: CheckResult): string {
  const groups = findingGroups(result);
  const facts = Object.entries(result).filter(
    ([k]) => k !== "check" && k !== "ok" && !groups.some((g) => g.name === k),
  );
  const findings = groups.reduce((n, g) => n + g.count, 0);
  const out = [
    result.ok
      ? `${result.check}: OK`
      : `${result.check}: ${groups.length ? `${num(findings)} findings` : "NOT OK"}`,
  ];
  for (const [k, v] of facts) out.push(`${printable(k, 60)}: ${cellText(v)}`);
  for (const g of groups) {
    out.push("", `${printable(g.name, 60)}: ${num(g.count)}`);
    if (g.sample.length === 0) continue;
    const columns = [...new Set(g.sample.flatMap((r) => Object.keys(r)))];
    out.push(
      table(
        columns.map((c) => printable(c, 40).toUpperCase()),
        g.sample.map((r) => columns.map((c) => cellText(r[c]))),
      ),
    );
    if (g.sample.length < g.count) out.push(`(sample of ${num(g.sample.length)})`);
  }
  return out.join("\n");
}
