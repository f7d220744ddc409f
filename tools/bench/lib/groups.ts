import type { BenchStack } from "./bench-stack";
import { childPids, type ProcessGroup } from "./rss";

/** The stack's processes: this Node process (simulator, WS proxy, load generator), wrangler, workerd, Postgres. */
export function memoryGroups(b: BenchStack): ProcessGroup[] {
  const wrangler = () => b.stack.worker.child().pid ?? 0;
  return [
    { name: "node (bench + simulator + ws proxy)", roots: () => [process.pid], withDescendants: false },
    { name: "wrangler (node)", roots: () => [wrangler()], withDescendants: false },
    { name: "workerd", roots: () => childPids(wrangler(), /workerd/), withDescendants: true },
    { name: "postgres (all backends)", roots: () => [b.cluster.postmasterPid() ?? 0], withDescendants: true },
  ];
}
